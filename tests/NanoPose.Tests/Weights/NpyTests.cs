using System.Text;
using NanoPose.TestSupport;
using NanoPose.Weights;

namespace NanoPose.Tests.Weights;

public class NpyTests
{
    [Theory]
    [InlineData(NpyDType.Float32)]
    [InlineData(NpyDType.Float16)]
    [InlineData(NpyDType.UInt8)]
    public void RoundTripsEveryDTypeAndRank(NpyDType dtype)
    {
        float[] values = [.. Enumerable.Range(0, 24).Select(i => (float)(i * 7 % 256))];
        foreach (int[] shape in new[] { new[] { 24 }, [2, 3, 4], [1, 2, 3, 4], [24, 1] })
        {
            byte[] bytes = Npy.Encode(shape, values, dtype);
            Assert.Equal(0, (bytes.Length - values.Length * (dtype == NpyDType.Float32 ? 4 : dtype == NpyDType.Float16 ? 2 : 1)) % 64);
            var array = Npy.Parse(bytes, "x.npy");
            Assert.Equal(dtype, array.DType);
            Assert.Equal(shape, array.Shape);
            Assert.Equal(values, array.Data);
        }
    }

    [Fact]
    public void ScalarAndEmptyArrays()
    {
        Assert.Equal([3.5f], Npy.Parse(Npy.Encode([], [3.5f]), "s.npy").Data);
        var empty = Npy.Parse(Npy.Encode([0, 5], []), "e.npy");
        Assert.Equal([0, 5], empty.Shape);
        Assert.Empty(empty.Data);
    }

    [Fact]
    public void HeaderIsWhatNumpyWrites()
    {
        byte[] bytes = Npy.Encode([1, 3], [1f, 2f, 3f]);
        Assert.Equal("\x93NUMPY\x01\x00", Encoding.Latin1.GetString(bytes, 0, 8));
        string header = Encoding.Latin1.GetString(bytes, 10, BitConverter.ToUInt16(bytes, 8));
        Assert.Equal("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), }", header.TrimEnd());
        Assert.EndsWith("\n", header);
        Assert.Contains("'shape': (7,)", Encoding.Latin1.GetString(Npy.Encode([7], new float[7])));
    }

    [Theory]
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", "unsupported dtype '<f8'")]
    [InlineData("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", "unsupported dtype '>f4'")]
    [InlineData("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", "fortran_order arrays are not supported")]
    [InlineData("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", "structured dtypes are not supported")]
    [InlineData("{'descr': '<f4', 'shape': (2,), }", "descr, fortran_order or shape missing")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", "shape (3) needs more data than the 8 bytes present")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", "needs 4 data bytes, found 8")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2147483647, 2147483647), }", "needs more data than the 8 bytes present")]
    public void RejectsWhatItCannotRead(string header, string expected)
    {
        byte[] bytes = [0x93, .. "NUMPY"u8, 1, 0, (byte)header.Length, 0, .. Encoding.Latin1.GetBytes(header), .. new byte[8]];
        var e = Assert.Throws<InvalidDataException>(() => Npy.Parse(bytes, "bad.npy"));
        Assert.StartsWith("bad.npy: ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void RejectsBadMagicAndTruncatedHeader()
    {
        Assert.Contains("bad magic", Assert.Throws<InvalidDataException>(() => Npy.Parse("PK\x03\x04 not numpy"u8, "z.npy")).Message);
        byte[] truncated = Npy.Encode([2], [1f, 2f])[..20];
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => Npy.Parse(truncated, "t.npy")).Message);
    }

    [Fact]
    public void CorruptedHeadersGiveFormatErrorsNotCrashes()
    {
        byte[] original = Npy.Encode([2, 3], [1f, 2f, 3f, 4f, 5f, 6f]);
        for (int i = 0; i < original.Length - 24; i++)
            foreach (byte pattern in new byte[] { 0xFF, 0x01, 0x20 })
            {
                byte[] bytes = (byte[])original.Clone();
                bytes[i] ^= pattern;
                try { Npy.Parse(bytes, "corrupt.npy"); }   // e.g. a flipped padding byte still reads
                catch (InvalidDataException e) { Assert.StartsWith("corrupt.npy: ", e.Message); }
            }
    }

    [Theory]
    [InlineData("golden/litehrnet/litehrnet_18_coco_256x192_input.npy", NpyDType.Float32, new[] { 1, 3, 256, 192 })]
    [InlineData("golden/bottomup/bu_785_heatmaps.npy", NpyDType.Float16, null)]
    [InlineData("golden/topdown/td00_785_crop_rgb.npy", NpyDType.UInt8, new[] { 256, 192, 3 })]
    public void ReadsTheGoldenArrays(string relativePath, NpyDType dtype, int[]? shape)
    {
        var array = Npy.Read(SharedData.File(relativePath));
        Assert.Equal(dtype, array.DType);
        if (shape is not null) Assert.Equal(shape, array.Shape);
        Assert.Equal(array.Shape.Aggregate(1L, (a, d) => a * d), array.Data.Length);
        Assert.All(array.Data, v => Assert.True(float.IsFinite(v)));
        // Re-encoding gives back the file byte for byte (same header layout as numpy).
        Assert.Equal(File.ReadAllBytes(SharedData.File(relativePath)), Npy.Encode(array.Shape, array.Data, dtype));
    }
}
