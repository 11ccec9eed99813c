using NanoPose.Kernels.Common;
using NanoPose.Kernels.Convolution;
using NanoPose.Kernels.Simd;
using NanoPose.Kernels.Tests.Infrastructure;

namespace NanoPose.Kernels.Tests.Convolution;

/// <summary>
/// One convolution problem with random data, run by the reference and by a vector width into output buffers
/// pre-filled with the same random values, so writes outside the view (channels past a slice, rows outside the
/// range) show up as differences too.
/// </summary>
public sealed record ConvCase(
    int Height, int Width, int InChannels, int OutChannels, ConvGeometry Geometry,
    Activation Activation = Activation.None, bool Bias = true, bool Residual = false,
    int InputExtra = 0, int OutputExtra = 0, int ResidualExtra = 0, bool Transposed = false)
{
    public Nhwc InputShape => new(Height, Width, InChannels, InChannels + InputExtra);

    public Nhwc OutputShape => Transposed
        ? new(2 * Height, 2 * Width, OutChannels, OutChannels + OutputExtra)
        : new(Geometry.OutputHeight(Height), Geometry.OutputWidth(Width), OutChannels, OutChannels + OutputExtra);

    public int ReductionLength => Transposed ? 4 * InChannels : InChannels / Geometry.Groups * Geometry.KernelHeight * Geometry.KernelWidth;

    public override string ToString() =>
        $"{Height}x{Width} {InChannels}->{OutChannels} {(Transposed ? "deconv4x4s2" : Geometry.ToString())} {Activation} bias={Bias} res={Residual} extra={InputExtra}/{OutputExtra}/{ResidualExtra}";

    public static ConvCase Deconv(int height, int width, int inChannels, int outChannels, Activation activation = Activation.None,
        bool bias = true, bool residual = false, int inputExtra = 0, int outputExtra = 0, int residualExtra = 0) =>
        new(height, width, inChannels, outChannels, ConvGeometry.Square(4, 2, 1), activation, bias, residual,
            inputExtra, outputExtra, residualExtra, Transposed: true);

    /// <summary>Reference vs <paramref name="width"/> over the whole output, then over rows split in three calls.</summary>
    public void Check(VectorWidth width, int seed = 1)
    {
        var data = new Data(this, seed);
        var expected = data.FreshOutput();
        RunReference(data, expected, 0, OutputShape.Height);

        var packed = Pack(width, data.Weights);
        var actual = data.FreshOutput();
        RunVector(width, data, packed, actual, 0, OutputShape.Height);
        Tolerance.AssertClose(expected, actual, ReductionLength, $"{width} {this}");

        int h = OutputShape.Height, a = h / 3, b = (2 * h + 1) / 3;
        var split = data.FreshOutput();
        RunVector(width, data, packed, split, b, h);
        RunVector(width, data, packed, split, 0, a);
        RunVector(width, data, packed, split, a, b);
        Tolerance.AssertClose(expected, split, ReductionLength, $"{width} rows [0,{a}) [{a},{b}) [{b},{h}) {this}");
    }

    /// <summary>One row range only: nothing outside it may change.</summary>
    public void CheckRows(VectorWidth width, int rowStart, int rowEnd, int seed = 2)
    {
        var data = new Data(this, seed);
        var expected = data.FreshOutput();
        RunReference(data, expected, rowStart, rowEnd);
        var actual = data.FreshOutput();
        RunVector(width, data, Pack(width, data.Weights), actual, rowStart, rowEnd);
        Tolerance.AssertClose(expected, actual, ReductionLength, $"{width} rows [{rowStart},{rowEnd}) {this}");
    }

    float[] Pack(VectorWidth width, float[] weights)
    {
        float[] packed;
        if (Transposed)
        {
            packed = new float[Deconv4x4Stride2.PackedWeightsLength(width, InChannels, OutChannels)];
            Deconv4x4Stride2.PackWeights(width, weights, InChannels, OutChannels, packed);
        }
        else
        {
            packed = new float[Conv2d.PackedWeightsLength(width, OutChannels, InChannels, Geometry)];
            Conv2d.PackWeights(width, weights, OutChannels, InChannels, Geometry, packed);
        }
        return packed;
    }

    void RunReference(Data data, float[] output, int rowStart, int rowEnd)
    {
        var epilogue = data.Epilogue(Activation);
        if (Transposed)
            ConvReference.ConvTranspose4x4Stride2(data.Input, InputShape, data.Weights, output, OutputShape, epilogue, rowStart, rowEnd);
        else
            ConvReference.Conv2d(data.Input, InputShape, data.Weights, Geometry, output, OutputShape, epilogue, rowStart, rowEnd);
    }

    void RunVector(VectorWidth width, Data data, float[] packed, float[] output, int rowStart, int rowEnd)
    {
        var epilogue = data.Epilogue(Activation);
        if (Transposed)
            Deconv4x4Stride2.RunRows(width, data.Input, InputShape, packed, output, OutputShape, epilogue, rowStart, rowEnd);
        else
            Conv2d.RunRows(width, data.Input, InputShape, packed, Geometry, output, OutputShape, epilogue, rowStart, rowEnd);
    }

    /// <summary>The random tensors of a case; values are kept small so SiLU and Sigmoid see both signs.</summary>
    public sealed class Data
    {
        readonly ConvCase _case;
        readonly float[] _outputFill;
        public float[] Input { get; }
        public float[] Weights { get; }
        public float[] Bias { get; }
        public float[] Residual { get; }

        public Data(ConvCase c, int seed)
        {
            _case = c;
            Input = TestData.Random(c.InputShape.RequiredLength, seed);
            int weightCount = c.Transposed
                ? c.InChannels * c.OutChannels * 16
                : c.OutChannels * (c.InChannels / c.Geometry.Groups) * c.Geometry.KernelHeight * c.Geometry.KernelWidth;
            Weights = TestData.Random(weightCount, seed + 1, 1f / MathF.Sqrt(c.ReductionLength));
            Bias = c.Bias ? TestData.Random(c.OutChannels, seed + 2) : [];
            Residual = c.Residual
                ? TestData.Random((c.OutputShape with { PixelStride = c.OutChannels + c.ResidualExtra }).RequiredLength, seed + 3)
                : [];
            _outputFill = TestData.Random(c.OutputShape.RequiredLength, seed + 4, 100f);
        }

        public float[] FreshOutput() => (float[])_outputFill.Clone();

        public Epilogue Epilogue(Activation activation) => new()
        {
            Bias = Bias,
            Activation = activation,
            Residual = Residual,
            ResidualPixelStride = _case.OutChannels + _case.ResidualExtra,
        };
    }
}
