using NanoPose.Kernels.Common;
using NanoPose.Kernels.Depthwise;
using NanoPose.Kernels.Simd;
using NanoPose.Kernels.Tests.Infrastructure;

namespace NanoPose.Kernels.Tests.Depthwise;

public class DepthwiseConv2dTests
{
    /// <summary>One depthwise call: shapes, window, epilogue choices and the row range to compute.</summary>
    public sealed record Case(int Height, int Width, int Channels, ConvGeometry Window,
        int InputPixelStride = 0, int OutputPixelStride = 0, Activation Activation = Activation.None,
        bool Bias = false, bool Residual = false, int ResidualPixelStride = 0, int RowStart = 0, int RowEnd = -1)
    {
        public override string ToString() =>
            $"{Height}x{Width}x{Channels} k{Window.KernelHeight}s{Window.StrideY} {Window.Padding} strides {InputPixelStride}/{OutputPixelStride}/{ResidualPixelStride} " +
            $"{Activation} bias={Bias} residual={Residual} rows [{RowStart}, {RowEnd})";
    }

    const float Untouched = 1234.5f;

    /// <summary>
    /// Runs the case at <paramref name="width"/> and compares the whole output buffer with the reference:
    /// rows outside the range and the gaps of strided views must keep their sentinel. Input and residual gaps hold
    /// NaN, so reading past the channels would show.
    /// </summary>
    static void Check(VectorWidth width, Case c, int seed)
    {
        var window = c.Window;
        var inputShape = new Nhwc(c.Height, c.Width, c.Channels, Math.Max(c.InputPixelStride, c.Channels));
        var dense = window.OutputShape(inputShape, inputShape.Channels);
        var outputShape = dense with { PixelStride = Math.Max(c.OutputPixelStride, c.Channels) };
        int rowEnd = c.RowEnd < 0 ? dense.Height : c.RowEnd;
        int k = window.KernelHeight;

        var input = WithGaps(inputShape, seed);
        var weights = TestData.Random(c.Channels * k * k, seed + 1);
        var packed = new float[DepthwiseConv2d.PackedWeightLength(c.Channels, k)];
        DepthwiseConv2d.PackWeights(weights, c.Channels, k, packed);
        var bias = c.Bias ? TestData.Random(c.Channels, seed + 2) : [];
        var residualShape = dense with { PixelStride = Math.Max(c.ResidualPixelStride, c.Channels) };
        var residual = c.Residual ? WithGaps(residualShape, seed + 3) : [];
        var epilogue = new Epilogue { Bias = bias, Activation = c.Activation, Residual = residual, ResidualPixelStride = residualShape.PixelStride };

        var full = Filled(outputShape.RequiredLength);
        DepthwiseConv2dReference.Run(input, inputShape, weights, window, full, outputShape, epilogue);
        var expected = Filled(outputShape.RequiredLength);
        for (int y = c.RowStart; y < rowEnd; y++)
            for (int x = 0; x < dense.Width; x++)
                full.AsSpan(outputShape.Offset(y, x), c.Channels).CopyTo(expected.AsSpan(outputShape.Offset(y, x)));

        var actual = Filled(outputShape.RequiredLength);
        DepthwiseConv2d.RunRows(width, input, inputShape, packed, window, actual, outputShape, epilogue, c.RowStart, rowEnd);
        Tolerance.AssertClose(expected, actual, k * k, $"{width} {c}");
    }

    static float[] WithGaps(Nhwc shape, int seed)
    {
        var data = TestData.Random(shape.RequiredLength, seed);
        for (int p = 0; p < shape.Pixels; p++)
            for (int ch = shape.Channels; ch < shape.PixelStride && p * shape.PixelStride + ch < data.Length; ch++)
                data[p * shape.PixelStride + ch] = float.NaN;
        return data;
    }

    static float[] Filled(int length)
    {
        var data = new float[length];
        data.AsSpan().Fill(Untouched);
        return data;
    }

    static readonly (int Kernel, int Stride)[] KernelsAndStrides = [(3, 1), (3, 2), (5, 1), (5, 2)];

    static readonly Activation[] AllActivations = Enum.GetValues<Activation>();

    public static TheoryData<VectorWidth, int> WidthsBySize()
    {
        var data = new TheoryData<VectorWidth, int>();
        foreach (var width in TestData.VectorWidths)
            for (int size = 1; size <= 33; size++) data.Add((VectorWidth)width.Data, size);
        return data;
    }

    /// <summary>Every channel count 1..33: full blocks, overlapping tail blocks, and the narrower / scalar steps down.</summary>
    [Theory, MemberData(nameof(WidthsBySize))]
    public void EveryChannelCount(VectorWidth width, int channels)
    {
        int i = 0;
        foreach (var (k, s) in KernelsAndStrides)
        {
            var pad = ((i++ + channels) % 3) switch { 0 => Padding2d.Uniform(k / 2), 1 => Padding2d.Same(k, s), _ => new Padding2d(k - 1, 0, 1, k - 1) };
            Check(width, new Case(6, 7, channels, ConvGeometry.Square(k, s, pad), InputPixelStride: channels + channels % 3,
                OutputPixelStride: channels + channels % 2, Activation: AllActivations[channels % AllActivations.Length],
                Bias: channels % 2 == 0, Residual: channels % 3 == 1), seed: channels * 10 + i);
        }
    }

    /// <summary>Every output width 1..33: groups of four interior pixels, their remainders and both borders.</summary>
    [Theory, MemberData(nameof(WidthsBySize))]
    public void EveryOutputWidth(VectorWidth width, int outputWidth)
    {
        int i = 0;
        foreach (var (k, s) in KernelsAndStrides)
        {
            var pad = i++ % 2 == 0 ? Padding2d.Same(k, s) : new Padding2d(1, k - 1, 0, outputWidth % k);
            int inputWidth = (outputWidth - 1) * s + k - pad.Left - pad.Right + outputWidth % s;
            if (inputWidth < 1) continue;
            int inputHeight = 2 * s + k - pad.Top - pad.Bottom;
            Check(width, new Case(inputHeight, inputWidth, 17, ConvGeometry.Square(k, s, pad), Bias: true), seed: outputWidth * 10 + i);
        }
    }

    public static TheoryData<VectorWidth, int, int> WidthsByKernelAndStride()
    {
        var data = new TheoryData<VectorWidth, int, int>();
        foreach (var width in TestData.VectorWidths)
            foreach (var (k, s) in KernelsAndStrides) data.Add((VectorWidth)width.Data, k, s);
        return data;
    }

    /// <summary>Each side padded independently by 0, 1 or k − 1, plus padding wider than the kernel (rows and
    /// columns of pure padding).</summary>
    [Theory, MemberData(nameof(WidthsByKernelAndStride))]
    public void AsymmetricPaddings(VectorWidth width, int kernel, int stride)
    {
        int[] pads = [0, 1, kernel - 1];
        int seed = 0;
        foreach (int top in pads)
            foreach (int left in pads)
                foreach (int bottom in pads)
                    foreach (int right in pads)
                        Check(width, new Case(6, 9, 9, ConvGeometry.Square(kernel, stride, new Padding2d(top, left, bottom, right))), seed++);
        int wide = kernel + 1;
        foreach (var pad in new[] { new Padding2d(wide, 0, 0, 0), new Padding2d(0, wide, 0, 0), new Padding2d(0, 0, wide, 0), new Padding2d(0, 0, 0, wide), Padding2d.Uniform(wide) })
            Check(width, new Case(5, 6, 20, ConvGeometry.Square(kernel, stride, pad), Bias: true), seed++);
        // Input narrower and shorter than the kernel: no interior pixel at all.
        Check(width, new Case(kernel - 1, kernel - 2, 20, ConvGeometry.Square(kernel, stride, Padding2d.Uniform(kernel / 2 + 1))), seed);
    }

    public static TheoryData<VectorWidth, Activation, bool, bool> WidthsByEpilogue()
    {
        var data = new TheoryData<VectorWidth, Activation, bool, bool>();
        foreach (var width in TestData.VectorWidths)
            foreach (var activation in AllActivations)
                foreach (bool bias in new[] { false, true })
                    foreach (bool residual in new[] { false, true })
                        data.Add((VectorWidth)width.Data, activation, bias, residual);
        return data;
    }

    /// <summary>Every activation, bias and residual on/off, over pixel-strided input, output and residual views.</summary>
    [Theory, MemberData(nameof(WidthsByEpilogue))]
    public void EpilogueOverStridedViews(VectorWidth width, Activation activation, bool bias, bool residual)
    {
        int seed = 0;
        foreach (var (k, s) in KernelsAndStrides)
            foreach (int channels in new[] { 3, 20, 37 })
                Check(width, new Case(9, 10, channels, ConvGeometry.Square(k, s, Padding2d.Same(k, s)),
                    InputPixelStride: 2 * channels, OutputPixelStride: channels + 5, Activation: activation,
                    Bias: bias, Residual: residual, ResidualPixelStride: channels + 3), seed++);
    }

    /// <summary>Row ranges compute exactly their rows (including empty ranges and ranges in the padding).</summary>
    [Theory, MemberData(nameof(WidthsByKernelAndStride))]
    public void RowRanges(VectorWidth width, int kernel, int stride)
    {
        var window = ConvGeometry.Square(kernel, stride, new Padding2d(kernel / 2, 1, kernel - 1, 0));
        int outputHeight = window.OutputHeight(11);
        int seed = 0;
        for (int start = 0; start <= outputHeight; start += 2)
            foreach (int end in new[] { start, start + 1, outputHeight })
                if (end <= outputHeight)
                    Check(width, new Case(11, 13, 20, window, InputPixelStride: 40, Activation: Activation.ReLU, Bias: true,
                        Residual: true, RowStart: start, RowEnd: end), seed++);
    }

    public static TheoryData<VectorWidth, string> WidthsByRealLayer()
    {
        var data = new TheoryData<VectorWidth, string>();
        foreach (var width in TestData.VectorWidths)
            foreach (var name in RealLayers.Keys) data.Add((VectorWidth)width.Data, name);
        return data;
    }

    static readonly Dictionary<string, Case> RealLayers = new()
    {
        // Lite-HRNet CCW depthwise (A.5), branch 0 at 256×192: 20 channels read from the second half of a 40-channel tensor.
        ["LiteHRNet dw3x3 s1 20ch 64x48 (half of 40)"] = new(64, 48, 20, ConvGeometry.Square(3, 1, Padding2d.Uniform(1)), InputPixelStride: 40, Bias: true),
        ["LiteHRNet dw3x3 s1 160ch 8x6"] = new(8, 6, 160, ConvGeometry.Square(3, 1, Padding2d.Uniform(1)), Bias: true),
        // Lite-HRNet stem branch1 (A.3): x1 = channels 0-15 of the 32-channel conv1 output, 3×3 s2.
        ["LiteHRNet stem dw3x3 s2 16ch 128x96 (half of 32)"] = new(128, 96, 16, ConvGeometry.Square(3, 2, Padding2d.Uniform(1)), InputPixelStride: 32, Bias: true),
        // EfficientHRNet MBConv depthwise unit (B.3): ZeroPad2d (1, 2), BN folded into the bias, Swish.
        ["EfficientNet dw5x5 s2 144ch 96x96"] = new(96, 96, 144, ConvGeometry.Square(5, 2, Padding2d.Same(5, 2)), Activation: Activation.SiLU, Bias: true),
    };

    [Theory, MemberData(nameof(WidthsByRealLayer))]
    public void RealLayerShapes(VectorWidth width, string layer) => Check(width, RealLayers[layer], seed: layer.Length);

    /// <summary>Rows wide enough for eight-pixel groups (3×3 stride 1 and 2 load each input column once for all its
    /// taps), ending in a group that overlaps the one before, for channel counts with and without a tail.</summary>
    [Theory, MemberData(nameof(WidthsByKernelAndStride))]
    public void WideRowsRunTheEightPixelGroups(VectorWidth width, int kernel, int stride)
    {
        int seed = 100;
        foreach (int channels in new[] { 4, 8, 20, 40, 96 })
            foreach (int columns in new[] { 17, 37, 53 })
                Check(width, new Case(5, columns, channels, ConvGeometry.Square(kernel, stride, Padding2d.Uniform(kernel / 2)), Bias: channels % 8 == 0), seed++);
    }

    /// <summary>The scalar width is the reference loops over the packed layout: bit-identical to the PyTorch-layout
    /// reference, which also checks the packing.</summary>
    [Fact]
    public void ScalarWidthMatchesReferenceExactly()
    {
        foreach (var (k, s) in KernelsAndStrides)
            foreach (int channels in new[] { 1, 5, 16, 21 })
            {
                var inputShape = new Nhwc(7, 8, channels);
                var window = ConvGeometry.Square(k, s, new Padding2d(1, k - 1, 0, 2));
                var outputShape = window.OutputShape(inputShape, inputShape.Channels);
                var input = TestData.Random(inputShape.RequiredLength, channels);
                var weights = TestData.Random(channels * k * k, channels + 1);
                var packed = new float[DepthwiseConv2d.PackedWeightLength(channels, k)];
                DepthwiseConv2d.PackWeights(weights, channels, k, packed);
                var epilogue = Epilogue.With(TestData.Random(channels, 3), Activation.SiLU);
                var expected = new float[outputShape.RequiredLength];
                var actual = new float[outputShape.RequiredLength];
                DepthwiseConv2dReference.Run(input, inputShape, weights, window, expected, outputShape, epilogue);
                DepthwiseConv2d.Run(VectorWidth.Scalar, input, inputShape, packed, window, actual, outputShape, epilogue);
                Tolerance.AssertExact(expected, actual, $"k{k}s{s} C={channels}");
            }
    }

    [Fact]
    public void PackWeightsIsTapMajorWithZeroPaddedChannels()
    {
        var torch = new float[3 * 9];
        for (int i = 0; i < torch.Length; i++) torch[i] = i + 1; // weight (c, ky, kx) = c·9 + ky·3 + kx + 1
        var packed = new float[DepthwiseConv2d.PackedWeightLength(3, 3)];
        Assert.Equal(9 * 16, packed.Length);
        DepthwiseConv2d.PackWeights(torch, 3, 3, packed);
        for (int tap = 0; tap < 9; tap++)
            for (int c = 0; c < 16; c++)
                Assert.Equal(c < 3 ? c * 9 + tap + 1 : 0f, packed[tap * 16 + c]);
    }

    /// <summary>
    /// Hand-computed: a 3×3 single-channel image 1..9 convolved with the same 3×3 values as weights.
    /// Cross-correlation, not convolution: the top-left output with padding 1 is 5·1 + 6·2 + 8·4 + 9·5 = 94
    /// (a flipped kernel would give 26).
    /// </summary>
    [Fact]
    public void ReferenceMatchesHandComputedValues()
    {
        float[] image = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        var shape = new Nhwc(3, 3, 1);
        float[] Run(Padding2d pad, int stride, Epilogue epilogue = default)
        {
            var window = ConvGeometry.Square(3, stride, pad);
            var output = new float[window.OutputShape(shape, shape.Channels).RequiredLength];
            DepthwiseConv2dReference.Run(image, shape, image, window, output, window.OutputShape(shape, shape.Channels), epilogue);
            return output;
        }

        Assert.Equal([94f, 154, 106, 186, 285, 186, 106, 154, 94], Run(Padding2d.Uniform(1), 1));
        Assert.Equal([94f, 106, 106, 94], Run(Padding2d.Uniform(1), 2));
        Assert.Equal([285f], Run(Padding2d.Uniform(0), 1));
        // Top 0, left 1, bottom 1, right 0: rows 1-2 and columns 0-1 of the padding-1 result.
        Assert.Equal([186f, 285, 106, 154], Run(new Padding2d(0, 1, 1, 0), 1));
        // relu(acc − 150 + residual): bias then residual then the activation.
        float[] residual = [0, 0, 0, 0, -200, 0, 0, 10, 0];
        Assert.Equal([0f, 4, 0, 36, 0, 36, 0, 14, 0],
            Run(Padding2d.Uniform(1), 1, new Epilogue { Bias = [-150f], Residual = residual, ResidualPixelStride = 1, Activation = Activation.ReLU }));
        // Sigmoid and SiLU of acc − 94 at the corner: 0.5 and 0.
        var sigmoid = Run(Padding2d.Uniform(1), 1, Epilogue.With([-94f], Activation.Sigmoid));
        var silu = Run(Padding2d.Uniform(1), 1, Epilogue.With([-94f], Activation.SiLU));
        Assert.Equal(0.5f, sigmoid[0]);
        Assert.Equal(0f, silu[0]);
        Assert.Equal(1f / (1f + MathF.Exp(-60f)), sigmoid[1]);
        Assert.Equal(60f / (1f + MathF.Exp(-60f)), silu[1]);
    }

    [Fact]
    public void SamePaddingMatchesEfficientHRNet()
    {
        Assert.Equal(new Padding2d(0, 0, 1, 1), Padding2d.Same(3, 2));
        Assert.Equal(new Padding2d(1, 1, 2, 2), Padding2d.Same(5, 2));
        Assert.Equal(new Padding2d(1, 1, 1, 1), Padding2d.Same(3, 1));
        Assert.Equal(new Padding2d(2, 2, 2, 2), Padding2d.Same(5, 1));
        Assert.Equal(new Nhwc(48, 48, 144), ConvGeometry.Square(5, 2, Padding2d.Same(5, 2)).OutputShape(new Nhwc(96, 96, 144), 144));
        Assert.Equal(new Nhwc(64, 48, 32), ConvGeometry.Square(3, 2, Padding2d.Uniform(1)).OutputShape(new Nhwc(128, 96, 32), 32));
    }

    [Fact]
    public void PreferredWidthStepsDownFromV512OnlyForChannelsNotAMultipleOf16()
    {
        Assert.Equal(VectorWidth.V256, DepthwiseConv2d.PreferredWidth(VectorWidth.V512, 20));
        Assert.Equal(VectorWidth.V256, DepthwiseConv2d.PreferredWidth(VectorWidth.V512, 40));
        Assert.Equal(VectorWidth.V512, DepthwiseConv2d.PreferredWidth(VectorWidth.V512, 32));
        Assert.Equal(VectorWidth.V512, DepthwiseConv2d.PreferredWidth(VectorWidth.V512, 144));
        Assert.Equal(VectorWidth.V256, DepthwiseConv2d.PreferredWidth(VectorWidth.V256, 20));
        Assert.Equal(VectorWidth.V128, DepthwiseConv2d.PreferredWidth(VectorWidth.V128, 20));
        Assert.Equal(VectorWidth.Scalar, DepthwiseConv2d.PreferredWidth(VectorWidth.Scalar, 20));
        Assert.Equal("channels", Assert.Throws<ArgumentException>(() => DepthwiseConv2d.PreferredWidth(VectorWidth.V512, 0)).ParamName);
    }

    [Fact]
    public void InvalidArgumentsAreRejected()
    {
        var inputShape = new Nhwc(6, 6, 8);
        var window = ConvGeometry.Square(3, 1, Padding2d.Uniform(1));
        var outputShape = window.OutputShape(inputShape, inputShape.Channels);
        var buffer = new float[inputShape.RequiredLength + outputShape.RequiredLength];
        var input = new float[inputShape.RequiredLength];
        var output = new float[outputShape.RequiredLength];
        var packed = new float[DepthwiseConv2d.PackedWeightLength(8, 3)];

        void Throws(string parameter, Action action) => Assert.Equal(parameter, Assert.Throws<ArgumentException>(action).ParamName);
        Throws("packedWeights", () => DepthwiseConv2d.Run(VectorWidth.V256, input, inputShape, packed.AsSpan(1), window, output, outputShape, default));
        Throws("outputShape", () => DepthwiseConv2d.Run(VectorWidth.V256, input, inputShape, packed, window, output, outputShape with { Width = 5 }, default));
        Throws("output", () => DepthwiseConv2d.Run(VectorWidth.V256, input, inputShape, packed, window, output.AsSpan(1), outputShape, default));
        Throws("input", () => DepthwiseConv2d.Run(VectorWidth.V256, input.AsSpan(1), inputShape, packed, window, output, outputShape, default));
        Throws("window", () => DepthwiseConv2d.Run(VectorWidth.V256, input, inputShape, packed, window with { StrideY = 0 }, output, outputShape, default));
        Throws("window", () => DepthwiseConv2d.Run(VectorWidth.V256, input, inputShape, packed, window with { KernelWidth = 5 }, output, outputShape, default));
        Throws("window", () => DepthwiseConv2d.Run(VectorWidth.V256, input, inputShape, packed, window with { StrideX = 2 }, output, outputShape, default));
        Throws("window", () => DepthwiseConv2d.Run(VectorWidth.V256, input, inputShape, packed, window with { Padding = new Padding2d(0, -1, 0, 0) }, output, outputShape, default));
        Throws("inputShape", () => DepthwiseConv2d.Run(VectorWidth.V256, input, inputShape, new float[DepthwiseConv2d.PackedWeightLength(8, 9)], ConvGeometry.Square(9, 1, Padding2d.Uniform(1)), output, outputShape, default));
        Throws("epilogue", () => DepthwiseConv2d.Run(VectorWidth.V256, input, inputShape, packed, window, output, outputShape, Epilogue.With(new float[7])));
        Throws("epilogue.Residual", () => DepthwiseConv2d.Run(VectorWidth.V256, input, inputShape, packed, window, output, outputShape, new Epilogue { Residual = new float[10], ResidualPixelStride = 8 }));
        Throws("rowStart", () => DepthwiseConv2d.RunRows(VectorWidth.V256, input, inputShape, packed, window, output, outputShape, default, 3, 2));
        Throws("rowStart", () => DepthwiseConv2d.RunRows(VectorWidth.V256, input, inputShape, packed, window, output, outputShape, default, 0, 7));
        Throws("width", () => DepthwiseConv2d.Run((VectorWidth)64, input, inputShape, packed, window, output, outputShape, default));
        // Aliasing: the overlapping last channel block would read what it already wrote.
        Throws("output", () => DepthwiseConv2d.Run(VectorWidth.V256, buffer, inputShape, packed, window, buffer.AsSpan(inputShape.RequiredLength - 1, outputShape.RequiredLength), outputShape, default));
        Throws("output", () => DepthwiseConv2d.Run(VectorWidth.V256, input, inputShape, packed, window, output, outputShape, new Epilogue { Residual = output, ResidualPixelStride = 8 }));
        Throws("torchWeights", () => DepthwiseConv2d.PackWeights(new float[71], 8, 3, packed));
        Throws("packed", () => DepthwiseConv2d.PackWeights(new float[72], 8, 3, new float[72]));
    }

    /// <summary>Row sums left by the epilogue: each computed row's channel sums of that width's own output, x in order
    /// (so exact), rows outside the range untouched; the reference leaves the sums of its own output.</summary>
    [Theory]
    [MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void RowSumsAreTheSumsOfTheOutputRows(VectorWidth width)
    {
        int cases = 0;
        foreach (int channels in new[] { 4, 8, 20, 33, 40 })
            foreach (var (kernel, stride) in KernelsAndStrides)
                foreach (var (outputPad, rowStart, rowEnd) in new[] { (0, 0, -1), (3, 2, 5) })
                {
                    var window = ConvGeometry.Square(kernel, stride, kernel / 2);
                    var inputShape = new Nhwc(9, 11, channels);
                    var outputShape = window.OutputShape(inputShape, channels) with { PixelStride = channels + outputPad };
                    int end = rowEnd < 0 ? outputShape.Height : rowEnd;
                    var weights = TestData.Random(channels * kernel * kernel, channels);
                    var packed = new float[DepthwiseConv2d.PackedWeightLength(channels, kernel)];
                    DepthwiseConv2d.PackWeights(weights, channels, kernel, packed);
                    var input = TestData.Random(inputShape.RequiredLength, channels + 1);
                    var epilogue = Epilogue.With(TestData.Random(channels, channels + 2), Activation.ReLU);
                    foreach (var run in new[] { width, VectorWidth.Scalar })
                    {
                        var output = Filled(outputShape.RequiredLength);
                        var rowSums = Filled(outputShape.Height * channels);
                        DepthwiseConv2d.RunRows(run, input, inputShape, packed, window, output, outputShape, epilogue, rowStart, end, rowSums);
                        var expected = Filled(rowSums.Length);
                        for (int y = rowStart; y < end; y++)
                            for (int c = 0; c < channels; c++)
                            {
                                float sum = 0f;
                                for (int x = 0; x < outputShape.Width; x++) sum += output[outputShape.Offset(y, x) + c];
                                expected[y * channels + c] = sum;
                            }
                        Tolerance.AssertExact(expected, rowSums, $"{run} {channels} channels k{kernel}s{stride} rows [{rowStart}, {end})");
                        cases++;
                    }
                }
        Assert.Equal(5 * 4 * 2 * 2, cases);
        var shape = new Nhwc(4, 4, 8);
        var packedWeights = new float[DepthwiseConv2d.PackedWeightLength(8, 3)];
        var error = Assert.Throws<ArgumentException>(() => DepthwiseConv2d.RunRows(width, new float[128], shape, packedWeights,
            ConvGeometry.Square(3, 1, 1), new float[128], shape, default, 0, 4, new float[31]));
        Assert.Equal("rowSums", error.ParamName);
    }
}
