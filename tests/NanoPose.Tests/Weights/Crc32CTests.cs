using System.Text;
using NanoPose.Weights;

namespace NanoPose.Tests.Weights;

public class Crc32CTests
{
    [Fact]
    public void KnownCheckValue()
    {
        // The standard check value of CRC-32C over "123456789".
        Assert.Equal(0xE3069283u, Crc32C.Compute(Encoding.ASCII.GetBytes("123456789")));
        Assert.Equal(0xE3069283u, Crc32C.ComputeWithTable(Encoding.ASCII.GetBytes("123456789")));
        Assert.Equal(0u, Crc32C.Compute([]));
    }

    [Fact]
    public void HardwarePathMatchesTableOnEveryLengthAndAlignment()
    {
        var data = new byte[300];
        new Random(7).NextBytes(data);
        for (int start = 0; start < 9; start++)
            for (int length = 0; start + length <= data.Length; length += 1 + length / 8)
                Assert.Equal(Crc32C.ComputeWithTable(data.AsSpan(start, length)), Crc32C.Compute(data.AsSpan(start, length)));
    }
}
