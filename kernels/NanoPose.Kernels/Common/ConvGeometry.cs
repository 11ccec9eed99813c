namespace NanoPose.Kernels.Common;

/// <summary>
/// Window of a 2-D convolution: kernel size, stride, zero padding per side (EfficientNet pads asymmetrically,
/// e.g. top/left 0 and bottom/right 1 for a 3×3 stride-2 conv) and groups. PyTorch cross-correlation semantics.
/// Shared by the dense and the depthwise kernels (the depthwise ones ignore <see cref="Groups"/>: there it is
/// the channel count by definition).
/// </summary>
public readonly record struct ConvGeometry(
    int KernelHeight, int KernelWidth,
    int StrideY, int StrideX,
    Padding2d Padding,
    int Groups = 1)
{
    /// <summary>Square kernel, equal strides, the same padding on every side.</summary>
    public static ConvGeometry Square(int kernel, int stride = 1, int pad = 0, int groups = 1) =>
        new(kernel, kernel, stride, stride, Padding2d.Uniform(pad), groups);

    /// <summary>Square kernel and equal strides with any padding per side.</summary>
    public static ConvGeometry Square(int kernel, int stride, Padding2d padding, int groups = 1) =>
        new(kernel, kernel, stride, stride, padding, groups);

    public static ConvGeometry Pointwise(int groups = 1) => Square(1, groups: groups);

    /// <summary>A 1×1, stride-1, unpadded conv: a GEMM over pixels.</summary>
    public bool IsPointwise => KernelHeight == 1 && KernelWidth == 1 && StrideY == 1 && StrideX == 1 && Padding.IsNone;

    public int OutputHeight(int inputHeight) => (inputHeight + Padding.Top + Padding.Bottom - KernelHeight) / StrideY + 1;

    public int OutputWidth(int inputWidth) => (inputWidth + Padding.Left + Padding.Right - KernelWidth) / StrideX + 1;

    /// <summary>The dense output view for <paramref name="input"/> with <paramref name="outChannels"/> channels.</summary>
    public Nhwc OutputShape(Nhwc input, int outChannels) =>
        new(OutputHeight(input.Height), OutputWidth(input.Width), outChannels);

    /// <summary>Throws unless the window is well formed for these channel counts and this input size.</summary>
    public void Validate(Nhwc input, int outChannels, string name)
    {
        if (KernelHeight < 1 || KernelWidth < 1 || StrideY < 1 || StrideX < 1 || !Padding.IsValid || Groups < 1)
            throw new ArgumentException($"{name}: invalid convolution geometry {this}.", name);
        if (input.Channels % Groups != 0 || outChannels % Groups != 0)
            throw new ArgumentException(
                $"{name}: {Groups} groups must divide input channels ({input.Channels}) and output channels ({outChannels}).", name);
        if (input.Height + Padding.Top + Padding.Bottom < KernelHeight || input.Width + Padding.Left + Padding.Right < KernelWidth)
            throw new ArgumentException(
                $"{name}: padded input {input.Height}×{input.Width} is smaller than the {KernelHeight}×{KernelWidth} kernel.", name);
    }
}
