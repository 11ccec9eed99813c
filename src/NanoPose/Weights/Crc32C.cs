using System.Buffers.Binary;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace NanoPose.Weights;

/// <summary>CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of the .npw file.
/// Uses the CPU's CRC32C instruction when there is one (SSE4.2, ARMv8 CRC), else a table.</summary>
public static class Crc32C
{
    private const uint Polynomial = 0x82F63B78u;
    private static readonly uint[] Table = BuildTable();

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint crc = ~0u;
        if (Sse42.X64.IsSupported)
        {
            ulong wide = crc;
            for (; data.Length >= 8; data = data[8..]) wide = Sse42.X64.Crc32(wide, BinaryPrimitives.ReadUInt64LittleEndian(data));
            crc = (uint)wide;
            foreach (byte b in data) crc = Sse42.Crc32(crc, b);
            return ~crc;
        }
        if (Crc32.Arm64.IsSupported)
        {
            for (; data.Length >= 8; data = data[8..]) crc = Crc32.Arm64.ComputeCrc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            foreach (byte b in data) crc = Crc32.ComputeCrc32C(crc, b);
            return ~crc;
        }
        return ComputeWithTable(data);
    }

    /// <summary>The portable definition; also the oracle for the hardware paths in tests.</summary>
    internal static uint ComputeWithTable(ReadOnlySpan<byte> data)
    {
        uint crc = ~0u;
        foreach (byte b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return ~crc;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? (c >> 1) ^ Polynomial : c >> 1;
            table[i] = c;
        }
        return table;
    }
}
