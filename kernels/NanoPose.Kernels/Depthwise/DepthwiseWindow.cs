using NanoPose.Kernels.Common;

namespace NanoPose.Kernels.Depthwise;

/// <summary>Zero padding per side, in pixels. EfficientNet pads asymmetrically, so each side is its own.</summary>
public readonly record struct Padding2d(int Top, int Left, int Bottom, int Right)
{
    /// <summary>The same padding on every side (Lite-HRNet's 3×3 convs use 1).</summary>
    public static Padding2d Uniform(int padding) => new(padding, padding, padding, padding);

    /// <summary>
    /// EfficientHRNet's static "same" padding (a ZeroPad2d before an unpadded conv): total max(k − s, 0) per axis,
    /// the smaller half on top/left. k3s2 → (0, 1), k5s2 → (1, 2), k3s1 → (1, 1), k5s1 → (2, 2).
    /// </summary>
    public static Padding2d Same(int kernel, int stride)
    {
        int total = Math.Max(kernel - stride, 0);
        return new(total / 2, total / 2, total - total / 2, total - total / 2);
    }
}

/// <summary>The sliding window of a square depthwise convolution: kernel size, stride and zero padding.</summary>
public readonly record struct DepthwiseWindow(int Kernel, int Stride, Padding2d Padding)
{
    /// <summary>(H + top + bottom − k) / s + 1.</summary>
    public int OutputHeight(int inputHeight) => (inputHeight + Padding.Top + Padding.Bottom - Kernel) / Stride + 1;

    /// <summary>(W + left + right − k) / s + 1.</summary>
    public int OutputWidth(int inputWidth) => (inputWidth + Padding.Left + Padding.Right - Kernel) / Stride + 1;

    /// <summary>The dense output view for <paramref name="input"/> (same channels, PixelStride = Channels).</summary>
    public Nhwc OutputShape(Nhwc input) => new(OutputHeight(input.Height), OutputWidth(input.Width), input.Channels);
}
