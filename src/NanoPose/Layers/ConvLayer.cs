using NanoPose.Kernels.Common;
using NanoPose.Kernels.Convolution;
using NanoPose.Kernels.Depthwise;
using NanoPose.Kernels.Simd;

namespace NanoPose.Layers;

/// <summary>
/// One convolution of a network, ready to run: weights packed once for the chosen vector width, BatchNorm
/// folded into the bias, activation and residual add fused into the store. A depthwise convolution
/// (groups = in = out channels) runs the depthwise kernel; every other one the dense kernel, which routes
/// 1×1 convs to its GEMM.
/// </summary>
public sealed class ConvLayer
{
    private readonly float[] _packed;
    private readonly float[] _bias;
    private readonly VectorWidth _width;

    public ConvLayer(ConvRequest request, ConvWeights weights, ConvGeometry geometry, Activation activation, VectorWidth width)
    {
        if (request.Transposed) throw new ArgumentException($"{request.Name}: a transposed convolution needs a {nameof(DeconvLayer)}");
        if (request.KernelHeight != geometry.KernelHeight || request.KernelWidth != geometry.KernelWidth)
            throw new ArgumentException($"{request.Name}: weights are {request.KernelHeight}×{request.KernelWidth}, geometry says {geometry.KernelHeight}×{geometry.KernelWidth}");
        Name = request.Name;
        OutChannels = request.OutChannels;
        InChannels = request.InChannelsPerGroup * geometry.Groups;
        Geometry = geometry;
        Activation = activation;
        IsDepthwise = geometry.Groups > 1 && geometry.Groups == InChannels && geometry.Groups == OutChannels
            && geometry.KernelHeight == geometry.KernelWidth && geometry.StrideY == geometry.StrideX;
        Kind = $"{(IsDepthwise ? "depthwise" : "conv")} {geometry.KernelHeight}×{geometry.KernelWidth}";
        // Depthwise channels that do not fill 512-bit vectors run faster 256 bits wide (kernels/KERNELS.md).
        _width = IsDepthwise ? DepthwiseConv2d.PreferredWidth(width, OutChannels) : width;
        _bias = weights.Bias;
        if (IsDepthwise)
        {
            _packed = new float[DepthwiseConv2d.PackedWeightLength(OutChannels, geometry.KernelHeight)];
            DepthwiseConv2d.PackWeights(weights.Weight, OutChannels, geometry.KernelHeight, _packed);
        }
        else
        {
            _packed = new float[Conv2d.PackedWeightsLength(width, OutChannels, InChannels, geometry)];
            Conv2d.PackWeights(width, weights.Weight, OutChannels, InChannels, geometry, _packed);
        }
    }

    /// <summary>Asks <paramref name="source"/> for the weights of <paramref name="request"/> and packs them.</summary>
    public static ConvLayer Create(IWeightSource source, ConvRequest request, ConvGeometry geometry, Activation activation, VectorWidth width) =>
        new(request, source.Conv(request), geometry, activation, width);

    public string Name { get; }
    public int InChannels { get; }
    public int OutChannels { get; }
    public ConvGeometry Geometry { get; }
    public Activation Activation { get; }
    public bool IsDepthwise { get; }

    public Nhwc OutputShape(Nhwc input) => Geometry.OutputShape(input, OutChannels);

    /// <summary>"depthwise 3×3", "conv 1×1", "conv 3×3": the kind of kernel that runs this layer, for profiles.</summary>
    public string Kind { get; }

    /// <summary>The layer on one input, for profiles: name, kind, channels, stride and sizes.</summary>
    public string Describe(Nhwc input)
    {
        var output = OutputShape(input);
        return $"{Name}: {Kind} {InChannels}→{OutChannels} stride {Geometry.StrideY}, {input.Height}×{input.Width} → {output.Height}×{output.Width}";
    }

    /// <summary>Multiply-accumulates of one run on an input of this size.</summary>
    public long MultiplyAccumulates(Nhwc input)
    {
        var output = OutputShape(input);
        return (long)output.Pixels * OutChannels * (InChannels / Geometry.Groups) * Geometry.KernelHeight * Geometry.KernelWidth;
    }

    /// <summary>Whether the pointwise GEMM runs this layer, split by output pixels rather than rows.</summary>
    private bool SplitsByPixel => _width != VectorWidth.Scalar && Geometry.IsPointwise && Geometry.Groups == 1;

    /// <summary>The units a run can be split into: output pixels for a 1×1 GEMM, output rows otherwise.</summary>
    public int SplitUnits(Nhwc output) => SplitsByPixel ? output.Pixels : output.Height;

    /// <summary>output = act(conv(input) + bias [+ residual]).</summary>
    public void Run(FeatureMap input, FeatureMap output, FeatureMap? residual = null) => Run(input, output, residual, 0, 1);

    /// <summary>Part <paramref name="part"/> of <paramref name="parts"/> equal contiguous ranges of the
    /// <see cref="SplitUnits"/>: every output value is computed exactly as by a whole run.</summary>
    /// <param name="rowSums">Depthwise layers only: an H×1×C map that receives each output row's channel sums (a global
    /// pool of the output taken in the epilogue, <see cref="DepthwiseConv2d.RunRows"/>).</param>
    public void Run(FeatureMap input, FeatureMap output, FeatureMap? residual, int part, int parts, FeatureMap? rowSums = null)
    {
        if (input.ChannelCount != InChannels)
            throw new ArgumentException($"{Name}: input has {input.ChannelCount} channels, the layer takes {InChannels}");
        if (rowSums is not null && (!IsDepthwise || rowSums.Shape != new Nhwc(output.Height, 1, OutChannels)))
            throw new ArgumentException($"{Name}: row sums are for depthwise layers, into {output.Height}×1×{OutChannels}; this is {Kind} and they are {rowSums.Shape}");
        var epilogue = new Epilogue
        {
            Bias = _bias,
            Activation = Activation,
            Residual = residual is null ? default : residual.Span,
            ResidualPixelStride = residual?.Shape.PixelStride ?? 0,
        };
        var (start, end) = Threading.WorkerPool.Range(SplitUnits(output.Shape), part, parts);
        if (IsDepthwise)
            DepthwiseConv2d.RunRows(_width, input.Span, input.Shape, _packed, Geometry, output.Span, output.Shape, epilogue, start, end,
                rowSums is null ? default : rowSums.Span);
        else if (SplitsByPixel)
            Pointwise.RunPixels(_width, input.Span, input.Shape, _packed, output.Span, output.Shape, epilogue, start, end);
        else
            Conv2d.RunRows(_width, input.Span, input.Shape, _packed, Geometry, output.Span, output.Shape, epilogue, start, end);
    }

    /// <summary>A 1×1 stride-1 layer over input rows [<paramref name="rowStart"/>, <paramref name="rowEnd"/>) only, into
    /// <paramref name="band"/> (those rows of the output, alone).</summary>
    public void RunRows(FeatureMap input, int rowStart, int rowEnd, Span<float> band, Nhwc bandShape)
    {
        if (!Geometry.IsPointwise)
            throw new InvalidOperationException($"{Name}: row bands are for 1×1 stride-1 layers, this one is {Kind} with {Geometry}");
        var rows = input.RowSpan(rowStart, rowEnd, out var rowsShape);
        var epilogue = new Epilogue { Bias = _bias, Activation = Activation };
        if (SplitsByPixel) Pointwise.RunPixels(_width, rows, rowsShape, _packed, band, bandShape, epilogue, 0, rowsShape.Pixels);
        else Conv2d.RunRows(_width, rows, rowsShape, _packed, Geometry, band, bandShape, epilogue, 0, rowsShape.Height);
    }

    /// <summary>
    /// Output rows [<paramref name="rowStart"/>, <paramref name="rowEnd"/>) of a depthwise layer from the input rows in
    /// <paramref name="band"/>, which start at input row <paramref name="bandStart"/> of <paramref name="inputHeight"/>
    /// and must hold every row those outputs read. The band's missing rows above and below become the window's zero
    /// padding, which is only right where the band meets the map's edge; that is checked.
    /// </summary>
    public void RunFromBand(ReadOnlySpan<float> band, Nhwc bandShape, int bandStart, int inputHeight, FeatureMap output, int rowStart, int rowEnd)
    {
        if (!IsDepthwise) throw new InvalidOperationException($"{Name}: input bands are for depthwise layers, this one is {Kind}");
        var g = Geometry;
        int firstTap = rowStart * g.StrideY - g.Padding.Top;
        int top = bandStart - firstTap, bottom = (rowEnd - rowStart - 1) * g.StrideY + g.KernelHeight - bandShape.Height - top;
        if (top < 0 || bottom < 0 || (top > 0 && bandStart != 0) || (bottom > 0 && bandStart + bandShape.Height != inputHeight))
            throw new ArgumentException($"{Name}: input rows [{bandStart}, {bandStart + bandShape.Height}) of {inputHeight} do not cover output rows [{rowStart}, {rowEnd})");
        var window = g with { Padding = g.Padding with { Top = top, Bottom = bottom } };
        var rows = output.RowSpan(rowStart, rowEnd, out var rowsShape);
        DepthwiseConv2d.RunRows(_width, band, bandShape, _packed, window, rows, rowsShape,
            new Epilogue { Bias = _bias, Activation = Activation }, 0, rowsShape.Height);
    }
}
