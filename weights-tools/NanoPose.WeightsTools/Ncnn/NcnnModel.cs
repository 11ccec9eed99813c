using System.Buffers.Binary;
using System.Text;
using NanoPose.IO;

namespace NanoPose.WeightsTools.Ncnn;

/// <summary>
/// An ncnn model read strictly: the .param graph (<see cref="NcnnParamFile"/>) and the .bin weights of its
/// convolutions, in file order. The reader tracks every blob's shape (channels always, spatial size once known)
/// through the layer types pose networks use, so each convolution's weight_data_size is checked against
/// num_output·(in/group)·kh·kw; it refuses layer types and parameters it does not understand (a layer it cannot
/// size could hold weights and shift everything after it) and requires the .bin to be consumed exactly.
/// </summary>
public sealed class NcnnModel
{
    public const string ConvolutionType = "Convolution";
    public const string DepthwiseType = "ConvolutionDepthWise";
    /// <summary>The .bin tag of an IEEE half-precision weight block (ncnn modelbin.cpp).</summary>
    public const uint Float16Tag = 0x01306B47;
    public const uint Float32Tag = 0;
    /// <summary>Far above any real network; keeps a hostile .param from asking for absurd shapes.</summary>
    private const int MaxChannels = 1 << 20, MaxKernel = 64, MaxStride = 64, MaxPad = 64;
    /// <summary>50× PP-TinyPose's 78 KB .param. With <see cref="NcnnParamFile"/>'s limits checked while tokenizing, the
    /// parse allocates a bounded multiple of this (measured in NcnnParamHostileTests).</summary>
    public const long MaxParamBytes = 4 << 20;

    private NcnnModel(IReadOnlyList<NcnnLayer> layers, IReadOnlyList<NcnnConvolution> convolutions, long binBytes)
        => (Layers, Convolutions, BinBytes) = (layers, convolutions, binBytes);

    public IReadOnlyList<NcnnLayer> Layers { get; }
    /// <summary>Every Convolution and ConvolutionDepthWise, in file order (the order of their weights in the .bin).</summary>
    public IReadOnlyList<NcnnConvolution> Convolutions { get; }
    public long BinBytes { get; }
    public long ParameterCount => Convolutions.Sum(c => (long)c.Weight.Length + c.Bias.Length);

    /// <summary>Reads <paramref name="paramPath"/> and its weights, by default the .bin beside it.</summary>
    /// <remarks>Both are read as regular files with a cap (<see cref="InputFile"/>): a FIFO or a device is refused by name.</remarks>
    public static NcnnModel Load(string paramPath, string? binPath = null)
    {
        binPath ??= Path.ChangeExtension(paramPath, ".bin");
        string param = Encoding.UTF8.GetString(InputFile.ReadAllBytes(paramPath, MaxParamBytes, "ncnn .param"));
        return Parse(param, InputFile.ReadAllBytes(binPath, Array.MaxLength, "ncnn .bin"), paramPath, binPath);
    }

    public static NcnnModel Parse(string paramText, byte[] bin, string paramSource, string binSource)
    {
        var layers = NcnnParamFile.Parse(paramText, paramSource);
        var shapes = new Dictionary<string, BlobShape>(StringComparer.Ordinal);
        var weights = new BinReader(bin, binSource);
        var convolutions = new List<NcnnConvolution>();
        foreach (var layer in layers)
        {
            var inputs = layer.Inputs.Select(b => shapes[b]).ToArray();
            BlobShape[] outputs;
            if (layer.Type is ConvolutionType or DepthwiseType)
            {
                var conv = ReadConvolution(layer, inputs, ref weights);
                var output = ConvolutionOutput(conv, inputs[0]);
                convolutions.Add(conv with { OutputHeight = output.H, OutputWidth = output.W });
                outputs = [output];
            }
            else outputs = Propagate(layer, inputs);
            for (int i = 0; i < outputs.Length; i++) shapes[layer.Outputs[i]] = outputs[i];
        }
        if (weights.Remaining > 0)
            throw new NcnnException(binSource, $"{weights.Remaining} bytes left over after the weights of all {convolutions.Count} convolutions ({bin.Length - weights.Remaining} bytes used)");
        return new NcnnModel(layers, convolutions, bin.Length);
    }

    /// <summary>A blob's shape as ncnn sees it (CHW, no batch axis); −1 where the graph does not fix it (e.g. the
    /// input's size, when the Input layer leaves it open).</summary>
    private readonly record struct BlobShape(int C, int H, int W)
    {
        /// <summary>Int128: three int dimensions can hold more than a long (up to 2^93).</summary>
        public Int128 Elements => C < 0 || H < 0 || W < 0 ? -1 : (Int128)C * H * W;
        public override string ToString() => $"{Dim(C)}×{Dim(H)}×{Dim(W)}";
        static string Dim(int d) => d < 0 ? "?" : d.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void RequireBlobCounts(NcnnLayer layer, int inputs, int minOutputs, int maxOutputs)
    {
        if (layer.Inputs.Count != inputs || layer.Outputs.Count < minOutputs || layer.Outputs.Count > maxOutputs)
            throw layer.Error($"expected {inputs} input blob(s) and {(minOutputs == maxOutputs ? $"{minOutputs}" : $"{minOutputs} or more")} output blob(s), found {layer.Inputs.Count} and {layer.Outputs.Count}");
    }

    private static NcnnConvolution ReadConvolution(NcnnLayer layer, BlobShape[] inputs, ref BinReader bin)
    {
        bool depthwise = layer.Type == DepthwiseType;
        RequireBlobCounts(layer, 1, 1, 1);
        int[] keys = depthwise ? [0, 1, 11, 2, 12, 3, 13, 4, 14, 15, 16, 18, 5, 6, 7, 8, 9, 19] : [0, 1, 11, 2, 12, 3, 13, 4, 14, 15, 16, 18, 5, 6, 8, 9, 19];
        layer.RequireKnownKeys(keys);
        int outChannels = layer.IntInRange(0, 0, 1, MaxChannels, "num_output");
        int kernelW = layer.IntInRange(1, 0, 1, MaxKernel, "kernel_w");
        int kernelH = layer.IntInRange(11, kernelW, 1, MaxKernel, "kernel_h");
        int dilationW = layer.IntInRange(2, 1, 1, MaxKernel, "dilation_w");
        int dilationH = layer.IntInRange(12, dilationW, 1, MaxKernel, "dilation_h");
        int strideW = layer.IntInRange(3, 1, 1, MaxStride, "stride_w");
        int strideH = layer.IntInRange(13, strideW, 1, MaxStride, "stride_h");
        // Negative pads are ncnn's SAME modes (−233, −234); the converted networks all pad explicitly.
        int padLeft = layer.IntInRange(4, 0, 0, MaxPad, "pad_left");
        int padTop = layer.IntInRange(14, padLeft, 0, MaxPad, "pad_top");
        int padRight = layer.IntInRange(15, padLeft, 0, MaxPad, "pad_right");
        int padBottom = layer.IntInRange(16, padTop, 0, MaxPad, "pad_bottom");
        if (layer.Float(18, 0) != 0) throw layer.Error($"pad_value (18={layer.Float(18, 0)}) must be 0: only zero padding is supported");
        bool hasBias = layer.IntInRange(5, 0, 0, 1, "bias_term") == 1;
        int weightCount = layer.IntInRange(6, 0, 1, int.MaxValue, "weight_data_size");
        int groups = depthwise ? layer.IntInRange(7, 1, 1, outChannels, "group") : 1;
        layer.IntInRange(8, 0, 0, 0, "int8_scale_term (int8 models are not supported)");
        var activation = (NcnnActivation)layer.IntInRange(9, 0, 0, 1, "activation_type (0 none or 1 ReLU)");
        layer.IntInRange(19, 0, 0, 0, "dynamic_weight");
        if (outChannels % groups != 0) throw layer.Error($"num_output {outChannels} is not a multiple of group {groups}");

        long perGroupKernel = (long)(outChannels / groups) * kernelH * kernelW; // weights per input channel
        int inChannels = inputs[0].C;
        if (inChannels < 0)
        {
            // The graph leaves the input's channels open (an Input layer without a shape): the weights fix them.
            if (weightCount % perGroupKernel != 0)
                throw layer.Error($"weight_data_size 6={weightCount} is not a multiple of num_output/group·kh·kw = {perGroupKernel}");
            long derived = weightCount / perGroupKernel;
            if (derived > MaxChannels) throw layer.Error($"weight_data_size 6={weightCount} implies {derived} input channels, more than {MaxChannels}");
            inChannels = (int)derived;
        }
        if (inChannels % groups != 0)
            throw layer.Error($"input blob '{layer.Inputs[0]}' has {inChannels} channels, not a multiple of group {groups}");
        long expected = (long)outChannels * (inChannels / groups) * kernelH * kernelW;
        if (expected != weightCount)
            throw layer.Error($"weight_data_size 6={weightCount} does not match num_output·(in/group)·kh·kw = {outChannels}·{inChannels / groups}·{kernelH}·{kernelW} = {expected} (input blob '{layer.Inputs[0]}' has {inChannels} channels)");

        var (weight, half) = bin.ReadWeights(weightCount, layer);
        float[] bias = hasBias ? bin.ReadFloat32(outChannels, layer, "bias") : [];
        return new NcnnConvolution(layer, outChannels, inChannels, groups, kernelH, kernelW, strideH, strideW,
            dilationH, dilationW, padTop, padLeft, padBottom, padRight, activation, half, weight, bias);
    }

    private static BlobShape ConvolutionOutput(NcnnConvolution c, BlobShape input)
    {
        int Size(int n, int pad, int k, int dilation, int stride)
        {
            if (n < 0) return -1;
            long span = (long)n + pad - (long)dilation * (k - 1) - 1;
            if (span < 0) throw c.Layer.Error($"input {input} is smaller than the {c.KernelHeight}×{c.KernelWidth} kernel");
            return (int)(span / stride + 1);
        }
        return new(c.OutChannels, Size(input.H, c.PadTop + c.PadBottom, c.KernelHeight, c.DilationHeight, c.StrideHeight),
            Size(input.W, c.PadLeft + c.PadRight, c.KernelWidth, c.DilationWidth, c.StrideWidth));
    }

    /// <summary>Output shapes of the weightless layers.</summary>
    private static BlobShape[] Propagate(NcnnLayer layer, BlobShape[] inputs)
    {
        switch (layer.Type)
        {
            case "Input":
            {
                RequireBlobCounts(layer, 0, 1, 1);
                layer.RequireKnownKeys(0, 1, 2);
                static int Open(int d) => d == 0 ? -1 : d; // ncnn writes 0 (or nothing) for an open size
                return [new(Open(layer.IntInRange(2, 0, 0, MaxChannels, "c")), Open(layer.IntInRange(1, 0, 0, int.MaxValue, "h")), Open(layer.IntInRange(0, 0, 0, int.MaxValue, "w")))];
            }
            case "Split":
                RequireBlobCounts(layer, 1, 1, int.MaxValue);
                layer.RequireKnownKeys();
                return Enumerable.Repeat(inputs[0], layer.Outputs.Count).ToArray();
            case "ReLU":
                RequireBlobCounts(layer, 1, 1, 1);
                layer.RequireKnownKeys(0);
                return [inputs[0]];
            case "Slice":
                return Slice(layer, inputs[0]);
            case "Concat":
                return [Concat(layer, inputs)];
            case "Reshape":
                return [Reshape(layer, inputs[0])];
            case "Permute":
                return [Permute(layer, inputs[0])];
            case "BinaryOp":
                return [BinaryOp(layer, inputs)];
            case "Interp":
                return [Interp(layer, inputs[0])];
            default:
                throw layer.Error($"unsupported layer type '{layer.Type}' (this reader knows Input, Convolution, ConvolutionDepthWise, Slice, Concat, Reshape, Permute, Split, BinaryOp, Interp, ReLU)");
        }
    }

    private static void RequireChannelAxis(NcnnLayer layer, int axisKey)
    {
        int axis = layer.Int(axisKey, 0);
        if (axis != 0) throw layer.Error($"axis {axisKey}={axis} is not supported (only 0, the channel axis)");
    }

    private static BlobShape[] Slice(NcnnLayer layer, BlobShape input)
    {
        RequireBlobCounts(layer, 1, 1, int.MaxValue);
        layer.RequireKnownKeys(NcnnParamFile.ArrayKeyBase, 1);
        RequireChannelAxis(layer, 1);
        int[] slices = layer.IntArray(NcnnParamFile.ArrayKeyBase) ?? throw layer.Error("missing the slices array -23300");
        if (slices.Length != layer.Outputs.Count)
            throw layer.Error($"slices array has {slices.Length} entries for {layer.Outputs.Count} output blobs");
        var outputs = new BlobShape[slices.Length];
        int offset = 0;
        for (int i = 0; i < slices.Length; i++)
        {
            int size = slices[i];
            if (size == -233) // ncnn: share what is left equally among the remaining outputs
                size = input.C < 0 ? -1 : (input.C - offset) / (slices.Length - i);
            else if (size <= 0) throw layer.Error($"slice {i} has size {size}; expected a positive size or -233");
            // With the input's channels known every size is known, so offset stays exact.
            if (input.C >= 0 && (size == 0 || offset + size > input.C))
                throw layer.Error($"slices {string.Join(",", slices)} do not fit the {input.C} input channels");
            outputs[i] = input with { C = size };
            offset += Math.Max(size, 0);
        }
        if (input.C >= 0 && offset != input.C)
            throw layer.Error($"slices {string.Join(",", slices)} cover {offset} of the {input.C} input channels");
        return outputs;
    }

    private static BlobShape Concat(NcnnLayer layer, BlobShape[] inputs)
    {
        if (inputs.Length == 0 || layer.Outputs.Count != 1) throw layer.Error($"expected input blobs and 1 output blob, found {inputs.Length} and {layer.Outputs.Count}");
        layer.RequireKnownKeys(0);
        RequireChannelAxis(layer, 0);
        var result = inputs[0];
        foreach (var input in inputs.AsSpan(1))
        {
            result = Merge(layer, result with { C = input.C }, input, "concatenated blobs must agree in height and width") with
            {
                C = result.C < 0 || input.C < 0 ? -1 : result.C + input.C,
            };
        }
        return result;
    }

    private static BlobShape Reshape(NcnnLayer layer, BlobShape input)
    {
        RequireBlobCounts(layer, 1, 1, 1);
        layer.RequireKnownKeys(0, 1, 2);
        if (!layer.Parameters.ContainsKey(0) || !layer.Parameters.ContainsKey(1) || !layer.Parameters.ContainsKey(2))
            throw layer.Error("only 3-D reshapes (0=w 1=h 2=c all given) are supported");
        // 0 copies the input's dimension, −1 is inferred from the element count.
        int Dim(int key, int inputDim)
        {
            int d = layer.IntInRange(key, 0, -1, int.MaxValue, "reshape dimension");
            return d == 0 ? inputDim : d;
        }
        var shape = new BlobShape(Dim(2, input.C), Dim(1, input.H), Dim(0, input.W));
        int inferred = (shape.C == -1 ? 1 : 0) + (shape.H == -1 ? 1 : 0) + (shape.W == -1 ? 1 : 0);
        Int128 known = (Int128)Math.Max(shape.C, 1) * Math.Max(shape.H, 1) * Math.Max(shape.W, 1);
        if (inferred == 1 && input.Elements >= 0)
        {
            if (input.Elements % known != 0) throw layer.Error($"cannot reshape {input} into {shape}");
            if (input.Elements / known > int.MaxValue)
                throw layer.Error($"cannot reshape {input} into {input.Elements / known} values along one dimension");
            int value = (int)(input.Elements / known);
            shape = new(shape.C == -1 ? value : shape.C, shape.H == -1 ? value : shape.H, shape.W == -1 ? value : shape.W);
        }
        else if (inferred == 0 && input.Elements >= 0 && input.Elements != shape.Elements)
            throw layer.Error($"cannot reshape {input} ({input.Elements} values) into {shape} ({shape.Elements} values)");
        return shape;
    }

    private static BlobShape Permute(NcnnLayer layer, BlobShape input)
    {
        RequireBlobCounts(layer, 1, 1, 1);
        layer.RequireKnownKeys(0);
        // ncnn's order types for a 3-D blob name the output's (w, h, c) in terms of the input's.
        return layer.IntInRange(0, 0, 0, 5, "order_type") switch
        {
            0 => input,
            1 => new(input.C, input.W, input.H),
            2 => new(input.H, input.C, input.W),
            3 => new(input.H, input.W, input.C),
            4 => new(input.W, input.C, input.H),
            _ => new(input.W, input.H, input.C),
        };
    }

    private static BlobShape BinaryOp(NcnnLayer layer, BlobShape[] inputs)
    {
        layer.RequireKnownKeys(0, 1, 2);
        layer.IntInRange(0, 0, 0, 11, "op_type");
        bool withScalar = layer.IntInRange(1, 0, 0, 1, "with_scalar") == 1;
        RequireBlobCounts(layer, withScalar ? 1 : 2, 1, 1);
        return withScalar ? inputs[0] : Merge(layer, inputs[0], inputs[1], "operands must have the same shape (broadcasting is not supported)");
    }

    private static BlobShape Interp(NcnnLayer layer, BlobShape input)
    {
        RequireBlobCounts(layer, 1, 1, 1);
        layer.RequireKnownKeys(0, 1, 2, 3, 4, 5, 6);
        layer.IntInRange(0, 0, 1, 3, "resize_type (1 nearest, 2 bilinear, 3 bicubic)");
        layer.IntInRange(5, 0, 0, 0, "dynamic_target_size");
        layer.IntInRange(6, 0, 0, 1, "align_corner");
        int Size(int sizeKey, int scaleKey, int inputSize)
        {
            int size = layer.IntInRange(sizeKey, 0, 0, int.MaxValue, "output size");
            if (size > 0) return size;
            double scale = layer.Float(scaleKey, 1);
            if (!(scale > 0 && scale <= 1024)) throw layer.Error($"scale {scaleKey}={scale} must be in (0, 1024]");
            if (inputSize < 0) return -1;
            double scaled = inputSize * scale;
            if (scaled > int.MaxValue) throw layer.Error($"scale {scaleKey}={scale} makes an output side of {scaled} from {inputSize}");
            return (int)scaled;
        }
        return new(input.C, Size(3, 1, input.H), Size(4, 2, input.W));
    }

    /// <summary>Two shapes that must agree where both are known; the result knows what either knows.</summary>
    private static BlobShape Merge(NcnnLayer layer, BlobShape a, BlobShape b, string rule)
    {
        int One(int x, int y) => x < 0 ? y : y < 0 || x == y ? x : throw layer.Error($"{rule}: {a} vs {b}");
        return new(One(a.C, b.C), One(a.H, b.H), One(a.W, b.W));
    }

    /// <summary>Reads weight blocks from the .bin, refusing to read (or allocate) past its end.</summary>
    private struct BinReader(byte[] bytes, string source)
    {
        private int _offset;

        public readonly int Remaining => bytes.Length - _offset;

        public (float[] Values, bool Float16) ReadWeights(int count, NcnnLayer layer)
        {
            Require(4, layer, "the weight tag");
            uint tag = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(_offset));
            if (tag == Float32Tag)
            {
                _offset += 4;
                return (ReadFloat32(count, layer, "float32 weights"), false);
            }
            if (tag != Float16Tag)
                throw new NcnnException(source, $"offset {_offset}: layer {layer.Name} (line {layer.Line}) has weight tag 0x{tag:X8}; expected 0x{Float16Tag:X8} (float16) or 0 (float32)");
            _offset += 4;
            long padded = ((long)count * 2 + 3) / 4 * 4; // the half-precision block is padded to 4 bytes
            Require(padded, layer, $"{count} float16 weights (padded to {padded} bytes)");
            var values = new float[count];
            var span = bytes.AsSpan(_offset);
            for (int i = 0; i < count; i++) values[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(span[(2 * i)..]);
            _offset += (int)padded;
            return (values, true);
        }

        public float[] ReadFloat32(int count, NcnnLayer layer, string what)
        {
            Require(4L * count, layer, $"{count} {what}");
            var values = new float[count];
            var span = bytes.AsSpan(_offset);
            for (int i = 0; i < count; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(span[(4 * i)..]);
            _offset += 4 * count;
            return values;
        }

        private readonly void Require(long byteCount, NcnnLayer layer, string what)
        {
            if (byteCount > Remaining)
                throw new NcnnException(source, $"truncated: layer {layer.Name} (line {layer.Line}) needs {byteCount} bytes for {what} at offset {_offset}, but only {Remaining} remain (file has {bytes.Length})");
        }
    }
}
