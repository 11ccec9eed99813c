using System.Buffers.Binary;
using NanoPose.WeightsTools.Ncnn;

namespace NanoPose.WeightsTools.Tests.Ncnn;

/// <summary>The .param/.bin reader on small files written by the tests: what it reads, and every refusal.</summary>
public class NcnnModelTests
{
    /// <summary>A 3-channel 4×4 input, a 1×1 conv 3→3 with ReLU (fp16: 9 halves, padded from 18 to 20 bytes), a
    /// channel slice into 1 + 2 (−233 = share equally what is left), a 3×3 depthwise conv on the 2 (fp32), a concat.</summary>
    private const string Param = """
        7767517
        5 6
        Input            data    0 1 data 0=4 1=4 2=3
        Convolution      conv0   1 1 data c0 0=3 1=1 5=1 6=9 9=1
        Slice            slice   1 2 c0 s0 s1 -23300=2,-233,-233
        ConvolutionDepthWise dw  1 1 s1 d1 0=2 1=3 4=1 5=1 6=18 7=2
        Concat           cat     2 1 s0 d1 out
        """;

    private static readonly float[] ConvWeights = [0.5f, -1.25f, 2, 0, 1, -0.75f, 3, 0.125f, -8];
    private static readonly float[] ConvBias = [0.1f, 0.2f, 0.3f];
    private static readonly float[] DwWeights = [.. Enumerable.Range(0, 18).Select(i => i * 0.1f)];
    private static readonly float[] DwBias = [-1, 1];

    private static byte[] Bin() => new BinBuilder().Float16(ConvWeights).Raw(ConvBias).Float32(DwWeights).Raw(DwBias).Bytes();

    private static NcnnModel Read(string param, byte[] bin) => NcnnModel.Parse(param, bin, "tiny.param", "tiny.bin");

    [Fact]
    public void ReadsWeightsBiasesShapesAndConsumesPaddedHalfBlocks()
    {
        var model = Read(Param, Bin());
        Assert.Equal(5, model.Layers.Count);
        Assert.Equal(4 + 18 + 2 + 12 + 4 + 72 + 8, model.BinBytes); // tag, halves, pad, bias, tag, floats, bias
        var (conv, dw) = (model.Convolutions[0], model.Convolutions[1]);

        Assert.Equal(("conv0", 3, 3, 1, 1, 1, NcnnActivation.Relu, true), (conv.Layer.Name, conv.OutChannels, conv.InChannels, conv.Groups, conv.KernelHeight, conv.StrideWidth, conv.Activation, conv.StoredAsFloat16));
        Assert.Equal(ConvWeights, conv.Weight);  // all exactly representable in fp16
        Assert.Equal(ConvBias, conv.Bias);
        Assert.False(conv.Depthwise);

        Assert.True(dw.Depthwise);
        Assert.Equal((2, 2, 2, 1, 3, 3, 1, 1, 1, 1), (dw.OutChannels, dw.InChannels, dw.Groups, dw.InChannelsPerGroup, dw.KernelHeight, dw.KernelWidth, dw.PadTop, dw.PadLeft, dw.PadBottom, dw.PadRight));
        Assert.Equal(NcnnActivation.None, dw.Activation);
        Assert.False(dw.StoredAsFloat16);
        Assert.Equal(DwWeights, dw.Weight);
        Assert.Equal(DwBias, dw.Bias);
        Assert.Equal(9 + 3 + 18 + 2, model.ParameterCount);
    }

    [Fact]
    public void InputChannelsComeFromTheWeightsWhenTheInputLeavesThemOpen()
    {
        var model = Read(Param.Replace("data 0=4 1=4 2=3", "data"), Bin());
        Assert.Equal(3, model.Convolutions[0].InChannels);
        Assert.Equal(2, model.Convolutions[1].InChannels);
    }

    [Fact]
    public void ALayerWithoutBiasTermReadsNoBias()
    {
        var model = Read(Param.Replace("0=2 1=3 4=1 5=1 6=18", "0=2 1=3 4=1 6=18"), new BinBuilder().Float16(ConvWeights).Raw(ConvBias).Float32(DwWeights).Bytes());
        Assert.Empty(model.Convolutions[1].Bias);
        Assert.Equal(9 + 3 + 18, model.ParameterCount);
    }

    [Theory]
    [InlineData("7767517\n5 6", "7767518\n5 6", "tiny.param:1: bad magic: expected 7767517, found '7767518'")]
    [InlineData("\n5 6\n", "\n6 6\n", "tiny.param: the header announces 6 layers, the file has 5")]
    [InlineData("\n5 6\n", "\n4 6\n", "tiny.param:7: more layers than the 4 the header announces")]
    [InlineData("\n5 6\n", "\n5 7\n", "tiny.param: the header announces 7 blobs, the layers produce 6")]
    [InlineData("\n5 6\n", "\n5\n", "tiny.param:2: expected 'layer_count blob_count'")]
    [InlineData("6=9 9=1", "6=9 9=1 30=1", "tiny.param:4 (Convolution conv0): unsupported parameter 30")]
    [InlineData("6=9 9=1", "6=9 9=1 8=1", "tiny.param:4 (Convolution conv0): int8_scale_term (int8 models are not supported) (8=1) must be in [0, 0]")]
    [InlineData("6=9 9=1", "6=9 9=2", "activation_type (0 none or 1 ReLU) (9=2) must be in [0, 1]")]
    [InlineData("6=9 9=1", "6=12 9=1", "tiny.param:4 (Convolution conv0): weight_data_size 6=12 does not match num_output·(in/group)·kh·kw = 3·3·1·1 = 9 (input blob 'data' has 3 channels)")]
    [InlineData("6=18 7=2", "6=36 7=2", "tiny.param:6 (ConvolutionDepthWise dw): weight_data_size 6=36 does not match num_output·(in/group)·kh·kw = 2·1·3·3 = 18 (input blob 's1' has 2 channels)")]
    [InlineData("6=18 7=2", "6=18 7=3", "group (7=3) must be in [1, 2]")]
    [InlineData("0=3 1=1 5=1", "0=3 1=1 4=-233 5=1", "pad_left (4=-233) must be in [0, 64]")]
    [InlineData("0=3 1=1 5=1", "0=x 1=1 5=1", "tiny.param:4 (Convolution conv0): parameter 0: 'x' is not a number")]
    [InlineData("0=3 1=1 5=1", "0=3 1=1 1=1 5=1", "parameter 1 is given twice")]
    [InlineData("0=3 1=1 5=1", "0=3 1=1 5 ", "expected key=value, found '5'")]
    [InlineData("0=3 1=1 5=1", "0=3.0 1=1 5=1", "parameter 0 must be one integer, found 3")]
    [InlineData("-23300=2,-233,-233", "-23300=3,-233,-233", "array parameter -23300 must be 'n,v1,…,vn'; found 2 values after a count of '3'")]
    [InlineData("-23300=2,-233,-233", "-23300=2,2,2", "tiny.param:5 (Slice slice): slices 2,2 do not fit the 3 input channels")]
    [InlineData("-23300=2,-233,-233", "-23300=2,1,1", "slices 1,1 cover 2 of the 3 input channels")]
    [InlineData("-23300=2,-233,-233", "-23300=2,-233,-233 1=1", "axis 1=1 is not supported")]
    [InlineData("Concat           cat", "Pooling          cat", "tiny.param:7 (Pooling cat): unsupported layer type 'Pooling'")]
    [InlineData("2 1 s0 d1 out", "2 1 s0 dx out", "input blob 'dx' is not produced by any earlier layer")]
    [InlineData("2 1 s0 d1 out", "2 1 s0 s1 out", "input blob 's1' is already consumed by layer dw")]
    [InlineData("1 1 s1 d1", "1 1 s1 c0", "output blob 'c0' is already produced by layer conv0")]
    [InlineData("1 2 c0 s0 s1", "1 9 c0 s0 s1", "announces 1 input and 9 output blobs, the line names only")]
    [InlineData("conv0   1 1", "slice   1 1", "layer name 'slice' is used twice")]
    public void MalformedParamFilesAreRefusedSayingWhereAndWhat(string find, string replace, string message)
    {
        string param = Param.Replace(find, replace);
        Assert.NotEqual(Param, param);
        var error = Assert.Throws<NcnnException>(() => Read(param, Bin()));
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void ChannelCountsAreTrackedThroughConcatAndChecked()
    {
        // The concat has 3 channels; a 1×1 conv claiming 4 inputs contradicts it.
        string param = Param.Replace("5 6", "6 7") + "\nConvolution after 1 1 out y 0=1 1=1 6=4";
        var error = Assert.Throws<NcnnException>(() => Read(param, [.. Bin(), .. new BinBuilder().Float32([1, 2, 3, 4]).Bytes()]));
        Assert.Contains("tiny.param:8 (Convolution after): weight_data_size 6=4 does not match num_output·(in/group)·kh·kw = 1·3·1·1 = 3 (input blob 'out' has 3 channels)", error.Message);
    }

    [Fact]
    public void SpatialShapesAreTrackedThroughReshapeAndPermuteAndChecked()
    {
        // out is 3×4×4 = 48 values; a reshape to 2×… must keep them, and a binary op needs equal operands.
        string param = Param.Replace("5 6", "8 10") + """

            Split        split  1 2 out a b
            Reshape      r      1 1 a r0 0=8 1=3 2=2
            BinaryOp     add    2 1 r0 b sum 0=0
            """;
        var error = Assert.Throws<NcnnException>(() => Read(param, Bin()));
        Assert.Contains("(BinaryOp add): operands must have the same shape (broadcasting is not supported): 2×3×8 vs 3×4×4", error.Message);
        error = Assert.Throws<NcnnException>(() => Read(param.Replace("0=8 1=3", "0=9 1=3"), Bin()));
        Assert.Contains("(Reshape r): cannot reshape 3×4×4 (48 values) into 2×3×9 (54 values)", error.Message);
    }

    [Theory]
    // 3 × 2^20 × 2^20 values cannot be an int-sized dimension (was: an OverflowException from a checked cast).
    [InlineData("data 0=1048576 1=1048576 2=3", "0=1 1=1 2=-1", "(Reshape r): cannot reshape 3×1048576×1048576 into 3298534883328 values along one dimension")]
    // 2^20 × (2^31 − 1)^2 values overflowed a long and read as "unknown": the wrong reshape was accepted.
    [InlineData("data 0=2147483647 1=2147483647 2=1048576", "0=1 1=1 2=1", "(Reshape r): cannot reshape 1048576×2147483647×2147483647 (4835703273954917072502784 values) into 1×1×1 (1 values)")]
    public void ReshapesOfHugeBlobsAreRefusedWithoutOverflow(string input, string reshape, string message)
    {
        string param = $"""
            7767517
            2 2
            Input data 0 1 {input}
            Reshape r 1 1 data out {reshape}
            """;
        var error = Assert.Throws<NcnnException>(() => Read(param, []));
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void TruncatedBinIsRefusedNamingTheLayerAndOffsets()
    {
        byte[] bin = Bin();
        var error = Assert.Throws<NcnnException>(() => Read(Param, bin[..^1]));
        Assert.Equal($"tiny.bin: truncated: layer dw (line 6) needs 8 bytes for 2 bias at offset {bin.Length - 8}, but only 7 remain (file has {bin.Length - 1})", error.Message);
        error = Assert.Throws<NcnnException>(() => Read(Param, bin[..10]));
        Assert.Contains("layer conv0 (line 4) needs 20 bytes for 9 float16 weights (padded to 20 bytes) at offset 4, but only 6 remain", error.Message);
        error = Assert.Throws<NcnnException>(() => Read(Param, bin[..2]));
        Assert.Contains("needs 4 bytes for the weight tag at offset 0, but only 2 remain", error.Message);
    }

    [Fact]
    public void LeftoverBytesAreReported()
    {
        byte[] bin = Bin();
        var error = Assert.Throws<NcnnException>(() => Read(Param, [.. bin, 0, 0, 0, 0]));
        Assert.Equal($"tiny.bin: 4 bytes left over after the weights of all 2 convolutions ({bin.Length} bytes used)", error.Message);
    }

    [Fact]
    public void UnknownWeightTagIsRefused()
    {
        byte[] bin = Bin();
        BinaryPrimitives.WriteUInt32LittleEndian(bin, 0x000D4B38); // ncnn's int8 tag
        var error = Assert.Throws<NcnnException>(() => Read(Param, bin));
        Assert.Equal("tiny.bin: offset 0: layer conv0 (line 4) has weight tag 0x000D4B38; expected 0x01306B47 (float16) or 0 (float32)", error.Message);
    }

    [Fact]
    public void HugeDeclaredSizesFailOnTheFileLengthBeforeAllocating()
    {
        string param = Param.Replace("0=3 1=1 5=1 6=9", "0=3 1=1 5=1 6=2147483647").Replace("data 0=4 1=4 2=3", "data");
        var error = Assert.Throws<NcnnException>(() => Read(param, Bin()));
        Assert.Contains("weight_data_size 6=2147483647 is not a multiple of num_output/group·kh·kw = 3", error.Message);
        param = Param.Replace("0=3 1=1 5=1 6=9", "0=1 1=1 5=1 6=2147483646").Replace("data 0=4 1=4 2=3", "data");
        error = Assert.Throws<NcnnException>(() => Read(param, Bin()));
        Assert.Contains("weight_data_size 6=2147483646 implies 2147483646 input channels, more than 1048576", error.Message);
        param = Param.Replace("data 0=4 1=4 2=3", "data 2=715827882");
        error = Assert.Throws<NcnnException>(() => Read(param, Bin()));
        Assert.Contains("c (2=715827882) must be in [0, 1048576]", error.Message);
        param = Param.Replace("0=3 1=1 5=1 6=9", "0=1048576 1=1 5=1 6=3145728");
        error = Assert.Throws<NcnnException>(() => Read(param, Bin()));
        Assert.Contains("layer conv0 (line 4) needs 6291456 bytes for 3145728 float16 weights (padded to 6291456 bytes) at offset 4", error.Message);
    }

    [Fact]
    public void MissingFilesAreNamed()
    {
        string path = Path.Combine(Path.GetTempPath(), $"nanopose-{Guid.NewGuid():N}.param");
        var error = Assert.Throws<NanoPose.IO.InputFileException>(() => NcnnModel.Load(path));
        Assert.Equal($"{path}: does not exist", error.Message);
    }

    /// <summary>Writes .bin blocks the way ncnn does: a tag and the weights, then untagged float32 biases.</summary>
    private sealed class BinBuilder
    {
        private readonly List<byte> _bytes = [];

        public BinBuilder Float16(float[] values)
        {
            Tag(NcnnModel.Float16Tag);
            foreach (float v in values) _bytes.AddRange(BitConverter.GetBytes((Half)v));
            while (_bytes.Count % 4 != 0) _bytes.Add(0);
            return this;
        }

        public BinBuilder Float32(float[] values)
        {
            Tag(NcnnModel.Float32Tag);
            return Raw(values);
        }

        public BinBuilder Raw(float[] values)
        {
            foreach (float v in values) _bytes.AddRange(BitConverter.GetBytes(v));
            return this;
        }

        public byte[] Bytes() => [.. _bytes];

        private void Tag(uint tag) => _bytes.AddRange(BitConverter.GetBytes(tag));
    }
}
