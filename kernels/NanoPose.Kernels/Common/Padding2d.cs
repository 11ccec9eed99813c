namespace NanoPose.Kernels.Common;

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

    public bool IsNone => Top == 0 && Left == 0 && Bottom == 0 && Right == 0;

    public bool IsValid => Top >= 0 && Left >= 0 && Bottom >= 0 && Right >= 0;
}
