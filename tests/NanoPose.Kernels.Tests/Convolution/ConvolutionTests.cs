using NanoPose.Kernels.Common;
using NanoPose.Kernels.Convolution;
using NanoPose.Kernels.Simd;
using NanoPose.Kernels.Tests.Infrastructure;

namespace NanoPose.Kernels.Tests.Convolution;

public class ConvolutionTests
{
    static readonly Activation[] AllActivations = Enum.GetValues<Activation>();

    [Theory, MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void EveryOutputWidthCoversThePixelTileTails(VectorWidth width)
    {
        for (int w = 1; w <= 33; w++)
            new ConvCase(3, w, 3, 5, ConvGeometry.Square(3, 1, 1), Activation.ReLU).Check(width, w);
        for (int w = 1; w <= 33; w++)
            new ConvCase(2, w, 4, 19, ConvGeometry.Pointwise(), Residual: true).Check(width, w);
    }

    /// <summary>
    /// Three taps wide, stride 1 in x, outputs within one vector: the column-reuse kernel (ColumnReuseCore) on
    /// machines with 32 vector registers. Its 16-pixel tiles, transposed input rows (4×4 blocks and the float-by-float
    /// rest), per-side padding, row strides, strided views, residual and activations, against the reference.
    /// </summary>
    [Theory, MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void ThreeTapRowsWithOneOutputVectorAtEveryWidthAndPadding(VectorWidth width)
    {
        int seed = 0, outChannels = width == VectorWidth.Scalar ? 14 : Math.Min(14, ConvPacking.Lanes(width));
        for (int w = 8; w <= 41; w++)
            new ConvCase(5, w, 14, outChannels, ConvGeometry.Square(3, 1, 1), Activation.ReLU).Check(width, ++seed);
        foreach (int cin in (int[])[1, 3, 4, 5, 17])
            foreach (var padding in new[] { new Padding2d(0, 0, 0, 0), new Padding2d(1, 2, 2, 0), new Padding2d(2, 1, 0, 2) })
                new ConvCase(7, 19, cin, outChannels, new ConvGeometry(3, 3, 1, 1, padding, 1), Activation.SiLU, Residual: true).Check(width, ++seed);
        new ConvCase(9, 20, 6, outChannels, new ConvGeometry(5, 3, 2, 1, new Padding2d(2, 1, 2, 1), 1), Bias: false).Check(width, ++seed);
        new ConvCase(6, 18, 14, outChannels, ConvGeometry.Square(3, 1, 1), Activation.Sigmoid, Residual: true,
            InputExtra: 3, OutputExtra: 5, ResidualExtra: 2).Check(width, ++seed);
    }

    [Theory, MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void EveryOutputChannelCountCoversTheChannelTileTails(VectorWidth width)
    {
        for (int cout = 1; cout <= 33; cout++)
            new ConvCase(4, 11, 3, cout, ConvGeometry.Square(3, 1, 1), Activation.SiLU, Residual: true).Check(width, cout);
        for (int cout = 1; cout <= 33; cout++)
            new ConvCase(3, 5, 6, cout, ConvGeometry.Pointwise(), Bias: cout % 2 == 0).Check(width, cout);
    }

    /// <summary>One output channel (SingleOutputConv: input channels across the lanes): every input channel count
    /// from 1 to 70 (whole vectors, pairs, tails), PicoDet's 5×5 96→1, strides, per-side padding, residual and
    /// activations, and strided views, against the reference.</summary>
    [Theory, MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void OneOutputChannel(VectorWidth width)
    {
        int seed = 0;
        for (int cin = 1; cin <= 70; cin++)
            new ConvCase(5, 6, cin, 1, ConvGeometry.Square(3, 1, 1), AllActivations[cin % AllActivations.Length], Residual: cin % 3 == 0).Check(width, ++seed);
        new ConvCase(9, 11, 96, 1, ConvGeometry.Square(5, 1, 2)).Check(width, ++seed);
        new ConvCase(9, 12, 33, 1, new ConvGeometry(5, 3, 2, 1, new Padding2d(2, 1, 0, 3), 1), Activation.Sigmoid, Bias: false).Check(width, ++seed);
        new ConvCase(6, 7, 20, 1, ConvGeometry.Square(3, 2, 1), Activation.ReLU, Residual: true, InputExtra: 3, OutputExtra: 2, ResidualExtra: 1).Check(width, ++seed);
        new ConvCase(2, 2, 17, 1, ConvGeometry.Square(5, 1, 2)).Check(width, ++seed);   // every tap but the centre's is padding
    }

    [Theory, MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void OddInputChannelsStridesAndKernelSizes(VectorWidth width)
    {
        int seed = 0;
        foreach (int k in (int[])[1, 3, 5])
            foreach (int stride in (int[])[1, 2])
                foreach (int cin in (int[])[1, 7, 13])
                    new ConvCase(9, 13, cin, 17, ConvGeometry.Square(k, stride, k / 2)).Check(width, ++seed);
        // Different strides and kernel extents per axis.
        new ConvCase(10, 12, 5, 9, new ConvGeometry(3, 5, 2, 1, new Padding2d(1, 2, 1, 2), 1)).Check(width);
        new ConvCase(7, 16, 4, 20, new ConvGeometry(1, 3, 1, 2, new Padding2d(0, 1, 0, 1), 1), Activation.ReLU).Check(width);
        // A 1×1 with stride 2 is not a GEMM over all pixels.
        new ConvCase(9, 11, 8, 12, ConvGeometry.Square(1, 2)).Check(width);
    }

    [Theory, MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void AsymmetricPaddings(VectorWidth width)
    {
        // EfficientNet's static same-padding: k3s2 → (0, 1), k5s2 → (1, 2), k5s1 → (2, 2).
        new ConvCase(12, 9, 3, 32, new ConvGeometry(3, 3, 2, 2, new Padding2d(0, 0, 1, 1), 1), Activation.SiLU).Check(width);
        new ConvCase(11, 13, 5, 24, new ConvGeometry(5, 5, 2, 2, new Padding2d(1, 1, 2, 2), 1), Activation.SiLU).Check(width);
        new ConvCase(6, 7, 3, 10, new ConvGeometry(3, 3, 1, 1, new Padding2d(2, 0, 0, 3), 1)).Check(width);
        new ConvCase(5, 6, 2, 7, new ConvGeometry(3, 3, 1, 1, new Padding2d(0, 3, 2, 0), 1)).Check(width);
        // Padding larger than the kernel: some outputs see no input at all, only the epilogue.
        new ConvCase(3, 4, 3, 6, new ConvGeometry(2, 2, 1, 1, new Padding2d(3, 3, 3, 3), 1), Activation.Sigmoid).Check(width);
        // Input narrower than the kernel: every pixel is a border pixel.
        new ConvCase(2, 2, 4, 18, ConvGeometry.Square(5, 1, 2)).Check(width);
        // More input channels than the zero row holds: border pixels run alone over their valid taps.
        new ConvCase(2, 11, 1030, 3, new ConvGeometry(3, 3, 1, 2, new Padding2d(1, 2, 1, 1), 1), Activation.ReLU, InputExtra: 1).Check(width);
        new ConvCase(3, 4, 1025, 2, new ConvGeometry(3, 3, 1, 1, new Padding2d(1, 1, 1, 2), 1)).Check(width);
    }

    [Theory, MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void Groups(VectorWidth width)
    {
        foreach (int groups in (int[])[1, 2, 4])
        {
            new ConvCase(6, 10, 4 * 3, 4 * 5, ConvGeometry.Square(3, 1, 1, groups), Activation.ReLU, Residual: true).Check(width, groups);
            new ConvCase(5, 7, 8, 40, ConvGeometry.Square(3, 2, 1, groups), InputExtra: 3, OutputExtra: 5).Check(width, groups);
            new ConvCase(4, 9, 16, 36, ConvGeometry.Pointwise(groups), Residual: true, ResidualExtra: 2).Check(width, groups);
        }
    }

    [Theory, MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void PixelStridedViewsActivationsAndResiduals(VectorWidth width)
    {
        int seed = 0;
        foreach (var activation in AllActivations)
            foreach (bool residual in (bool[])[false, true])
            {
                new ConvCase(5, 9, 7, 21, ConvGeometry.Square(3, 1, 1), activation, Residual: residual,
                    InputExtra: 5, OutputExtra: 3, ResidualExtra: 11).Check(width, ++seed);
                new ConvCase(4, 5, 20, 20, ConvGeometry.Pointwise(), activation, Bias: !residual, Residual: residual,
                    InputExtra: 20, OutputExtra: 20, ResidualExtra: 1).Check(width, ++seed);
            }
    }

    [Theory, MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void RowRangesWriteOnlyTheirRows(VectorWidth width)
    {
        var conv = new ConvCase(7, 10, 5, 18, ConvGeometry.Square(3, 2, 1), Activation.ReLU, Residual: true, OutputExtra: 2);
        var pointwise = new ConvCase(6, 5, 9, 33, ConvGeometry.Pointwise(), Residual: true);
        var deconv = ConvCase.Deconv(4, 3, 5, 18, Activation.ReLU, residual: true);
        foreach (var c in (ConvCase[])[conv, pointwise, deconv])
            for (int start = 0; start <= c.OutputShape.Height; start++)
                for (int end = start; end <= Math.Min(c.OutputShape.Height, start + 3); end++)
                    c.CheckRows(width, start, end);
    }

    [Theory, MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void PointwisePixelRanges(VectorWidth width)
    {
        var inputShape = new Nhwc(3, 5, 12, 15);
        var outputShape = new Nhwc(3, 5, 20, 23);
        var input = TestData.Random(inputShape.RequiredLength, 1);
        var weights = TestData.Random(20 * 12, 2, 0.3f);
        var bias = TestData.Random(20, 3);
        var residual = TestData.Random(outputShape.RequiredLength, 4);
        var epilogue = new Epilogue { Bias = bias, Activation = Activation.SiLU, Residual = residual, ResidualPixelStride = 23 };
        var expected = TestData.Random(outputShape.RequiredLength, 5, 100f);
        ConvReference.Conv2d(input, inputShape, weights, ConvGeometry.Pointwise(), expected, outputShape, epilogue, 0, 3);

        var packed = new float[Conv2d.PackedWeightsLength(width, 20, 12, ConvGeometry.Pointwise())];
        Conv2d.PackWeights(width, weights, 20, 12, ConvGeometry.Pointwise(), packed);
        var actual = TestData.Random(outputShape.RequiredLength, 5, 100f);
        foreach (var (start, end) in ((int, int)[])[(0, 1), (1, 8), (8, 8), (8, 15)])
            Pointwise.RunPixels(width, input, inputShape, packed, actual, outputShape, epilogue, start, end);
        Tolerance.AssertClose(expected, actual, 12, $"{width} pointwise pixel ranges");
    }

    [Theory, MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void TransposedConvolution(VectorWidth width)
    {
        int seed = 0;
        for (int h = 1; h <= 3; h++)
            for (int w = 1; w <= 11; w += 2)
                ConvCase.Deconv(h, w, 3, 7, Activation.ReLU).Check(width, ++seed);
        foreach (int cout in (int[])[1, 8, 16, 17, 31, 33])
            ConvCase.Deconv(3, 9, 5, cout, residual: cout % 2 == 1).Check(width, cout);
        foreach (var activation in AllActivations)
            ConvCase.Deconv(4, 5, 6, 10, activation, bias: false, residual: true, inputExtra: 3, outputExtra: 2, residualExtra: 5).Check(width, ++seed);
    }

    /// <summary>The networks' layers, spatially shrunk where the full size would slow the suite down.</summary>
    [Theory, MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void RealLayerShapes(VectorWidth width)
    {
        // EfficientHRNet H0 BasicBlock 3×3 32→32 (+ identity, ReLU), at 24×20 instead of 128×128.
        new ConvCase(24, 20, 32, 32, ConvGeometry.Square(3, 1, 1), Activation.ReLU, Residual: true).Check(width);
        // Pooled maps of 1–3 pixels (Lite-HRNet spatial weighting 40→160 + sigmoid, squeeze-excite): one-pixel tiles.
        new ConvCase(1, 1, 40, 160, ConvGeometry.Pointwise(), Activation.Sigmoid).Check(width);
        new ConvCase(1, 3, 160, 40, ConvGeometry.Pointwise(), Activation.ReLU, Residual: true).Check(width);
        new ConvCase(2, 1, 23, 83, ConvGeometry.Pointwise(), Activation.SiLU, InputExtra: 3, OutputExtra: 2).Check(width);
        // EfficientHRNet H−4 BasicBlock 3×3 107→107 at 12×12 (rows of 6·k pixels: 6×2 tiles), and an 18-wide map.
        new ConvCase(12, 12, 107, 107, ConvGeometry.Square(3, 1, 1), Activation.ReLU, Residual: true).Check(width);
        new ConvCase(5, 18, 9, 40, ConvGeometry.Square(3, 1, 1)).Check(width);
        // EfficientHRNet H−4 BasicBlock 3×3 14→14 (one vector of outputs at V512: the paired-accumulator tile), at 20×19.
        new ConvCase(20, 19, 14, 14, ConvGeometry.Square(3, 1, 1), Activation.ReLU, Residual: true).Check(width);
        // Lite-HRNet stem 3×3 s2 3→32, ReLU, at 64×48 instead of 256×192.
        new ConvCase(64, 48, 3, 32, ConvGeometry.Square(3, 2, 1), Activation.ReLU).Check(width);
        // EfficientNet stem 3×3 s2 pad (0,1), Swish, at 40×40 instead of 384×384.
        new ConvCase(40, 40, 3, 32, new ConvGeometry(3, 3, 2, 2, new Padding2d(0, 0, 1, 1), 1), Activation.SiLU, Bias: false).Check(width);
        // 1×1 convs: 256→256 at 16×16, 160→160 at 8×6, 20→20 at 64×48 on channel halves, expand 24→144 at 24×24.
        new ConvCase(16, 16, 256, 256, ConvGeometry.Pointwise(), Activation.ReLU).Check(width);
        new ConvCase(8, 6, 160, 160, ConvGeometry.Pointwise(), Activation.ReLU).Check(width);
        new ConvCase(64, 48, 20, 20, ConvGeometry.Pointwise(), Activation.ReLU, InputExtra: 20, OutputExtra: 20).Check(width);
        new ConvCase(24, 24, 24, 144, ConvGeometry.Pointwise(), Activation.SiLU).Check(width);
        // Lite-HRNet 40→40 on channel halves with a residual; EfficientHRNet H0 expand 16→96 and project 96→24.
        new ConvCase(16, 12, 40, 40, ConvGeometry.Pointwise(), Activation.ReLU, Residual: true, InputExtra: 40, OutputExtra: 40, ResidualExtra: 40).Check(width);
        new ConvCase(12, 12, 16, 96, ConvGeometry.Pointwise(), Activation.SiLU).Check(width);
        new ConvCase(12, 12, 96, 24, ConvGeometry.Pointwise(), Bias: true).Check(width);
        // Heads: 1×1 40→17 with bias; deconv (32+34)→32 at 12×10 instead of 128×128.
        new ConvCase(16, 12, 40, 17, ConvGeometry.Pointwise()).Check(width);
        ConvCase.Deconv(12, 10, 32 + 34, 32, Activation.ReLU, bias: true).Check(width);
    }

    [Theory, MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void RejectsInconsistentArguments(VectorWidth width)
    {
        var geometry = ConvGeometry.Square(3, 1, 1);
        var inputShape = new Nhwc(4, 4, 3);
        var input = new float[inputShape.RequiredLength];
        var packed = new float[Conv2d.PackedWeightsLength(width, 8, 3, geometry)];
        var output = new float[4 * 4 * 8];
        Assert.Throws<ArgumentException>(() => Conv2d.Run(width, input, inputShape, packed, geometry, output, new Nhwc(4, 3, 8), Epilogue.None));
        Assert.Throws<ArgumentException>(() => Conv2d.Run(width, input, inputShape, packed.AsSpan(1), geometry, output, new Nhwc(4, 4, 8), Epilogue.None));
        Assert.Throws<ArgumentException>(() => Conv2d.Run(width, input, inputShape, packed, ConvGeometry.Square(3, 1, 1, groups: 2), output, new Nhwc(4, 4, 8), Epilogue.None));
        Assert.Throws<ArgumentException>(() => Conv2d.RunRows(width, input, inputShape, packed, geometry, output, new Nhwc(4, 4, 8), Epilogue.None, 2, 5));
        Assert.Throws<ArgumentException>(() => Conv2d.Run(width, input, inputShape, packed, geometry, output, new Nhwc(4, 4, 8),
            Epilogue.With(new float[7])));
        Assert.Throws<ArgumentException>(() => Conv2d.Run(width, input, inputShape, packed, geometry, output, new Nhwc(4, 4, 8),
            new Epilogue { Residual = new float[10], ResidualPixelStride = 8 }));
        Assert.Throws<ArgumentException>(() => Deconv4x4Stride2.Run(width, input, inputShape,
            new float[Deconv4x4Stride2.PackedWeightsLength(width, 3, 2)], new float[8 * 7 * 2], new Nhwc(8, 7, 2), Epilogue.None));
    }
}
