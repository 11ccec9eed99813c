using NanoPose.Kernels.Common;

namespace NanoPose.Kernels.Convolution;

/// <summary>
/// Window of a 2-D convolution: kernel size, stride, zero padding per side (EfficientNet pads asymmetrically,
/// e.g. top/left 0 and bottom/right 1 for a 3×3 stride-2 conv) and groups. PyTorch cross-correlation semantics.
/// </summary>
public readonly record struct ConvGeometry(
    int KernelHeight, int KernelWidth,
    int StrideY, int StrideX,
    int PadTop, int PadLeft, int PadBottom, int PadRight,
    int Groups)
{
    /// <summary>Square kernel, equal strides, the same padding on every side.</summary>
    public static ConvGeometry Square(int kernel, int stride = 1, int pad = 0, int groups = 1) =>
        new(kernel, kernel, stride, stride, pad, pad, pad, pad, groups);

    public static ConvGeometry Pointwise(int groups = 1) => Square(1, groups: groups);

    /// <summary>A 1×1, stride-1, unpadded conv: a GEMM over pixels.</summary>
    public bool IsPointwise => KernelHeight == 1 && KernelWidth == 1 && StrideY == 1 && StrideX == 1
        && PadTop == 0 && PadLeft == 0 && PadBottom == 0 && PadRight == 0;

    public int OutputHeight(int inputHeight) => (inputHeight + PadTop + PadBottom - KernelHeight) / StrideY + 1;

    public int OutputWidth(int inputWidth) => (inputWidth + PadLeft + PadRight - KernelWidth) / StrideX + 1;

    /// <summary>Throws unless the window is well formed for these channel counts and this input size.</summary>
    public void Validate(Nhwc input, int outChannels, string name)
    {
        if (KernelHeight < 1 || KernelWidth < 1 || StrideY < 1 || StrideX < 1
            || PadTop < 0 || PadLeft < 0 || PadBottom < 0 || PadRight < 0 || Groups < 1)
            throw new ArgumentException($"{name}: invalid convolution geometry {this}.", name);
        if (input.Channels % Groups != 0 || outChannels % Groups != 0)
            throw new ArgumentException(
                $"{name}: {Groups} groups must divide input channels ({input.Channels}) and output channels ({outChannels}).", name);
        if (input.Height + PadTop + PadBottom < KernelHeight || input.Width + PadLeft + PadRight < KernelWidth)
            throw new ArgumentException(
                $"{name}: padded input {input.Height}×{input.Width} is smaller than the {KernelHeight}×{KernelWidth} kernel.", name);
    }
}
