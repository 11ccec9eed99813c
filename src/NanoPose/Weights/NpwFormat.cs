namespace NanoPose.Weights;

/// <summary>How a tensor's values are stored in the file; the reader always hands out float32.</summary>
public enum WeightDType : byte { Float32 = 1, Float16 = 2 }

/// <summary>One entry of the tensor table. <see cref="Offset"/> is relative to the start of the data section.</summary>
public sealed record NpwTensorInfo(string Name, WeightDType DType, int[] Shape, long Offset, long ByteLength)
{
    public long ElementCount => ByteLength / NpwFormat.ElementSize(DType);
    public override string ToString() => $"{Name} {DType} [{string.Join(", ", Shape)}]";
}

/// <summary>Constants of the layout described in NPW-FORMAT.md.</summary>
internal static class NpwFormat
{
    /// <summary>"\x89NPW\r\n\x1A\n": the high byte and the line endings catch text-mode transfers, as in PNG.</summary>
    public static ReadOnlySpan<byte> Magic => [0x89, (byte)'N', (byte)'P', (byte)'W', 0x0D, 0x0A, 0x1A, 0x0A];
    public const uint Version = 1;
    public const int HeaderSize = 64;
    public const int TrailerSize = 4;
    public const int Alignment = 64;
    public const int MaxRank = 8;

    public static int ElementSize(WeightDType dtype) => dtype == WeightDType.Float16 ? 2 : 4;

    public static long AlignUp(long value) => (value + Alignment - 1) / Alignment * Alignment;
}
