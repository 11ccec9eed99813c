using NanoPose.Kernels.Common;

namespace NanoPose.Kernels.Tests.Infrastructure;

/// <summary>Buffers for NHWC views in the tests of the data-movement, elementwise, pooling and resize families.
/// Every float of a buffer is filled, the gaps between strided pixels too, and tests compare whole buffers, so a
/// kernel that writes outside its view fails.</summary>
public static class ViewBuffers
{
    /// <summary>A view with <paramref name="padding"/> extra floats per pixel (0 = dense).</summary>
    public static Nhwc View(int height, int width, int channels, int padding = 0) => new(height, width, channels, channels + padding);

    public static float[] Random(Nhwc view, int seed, float scale = 1f) => TestData.Random(view.RequiredLength, seed, scale);

    public static float[] Copy(float[] source) => (float[])source.Clone();
}
