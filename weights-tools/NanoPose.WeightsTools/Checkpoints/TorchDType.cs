namespace NanoPose.WeightsTools.Checkpoints;

/// <summary>Element types of PyTorch storages, named after the legacy storage classes in checkpoints.</summary>
public enum TorchDType { Float32, Float16, BFloat16, Float64, Int64, Int32, Int16, Int8, UInt8, Bool }

internal static class TorchDTypes
{
    /// <summary>The storage class names torch.save writes (<c>torch.FloatStorage</c> …), each a type marker only.</summary>
    public static bool TryFromStorageClass(string name, out TorchDType dtype)
    {
        (bool known, dtype) = name switch
        {
            "FloatStorage" => (true, TorchDType.Float32),
            "HalfStorage" => (true, TorchDType.Float16),
            "BFloat16Storage" => (true, TorchDType.BFloat16),
            "DoubleStorage" => (true, TorchDType.Float64),
            "LongStorage" => (true, TorchDType.Int64),
            "IntStorage" => (true, TorchDType.Int32),
            "ShortStorage" => (true, TorchDType.Int16),
            "CharStorage" => (true, TorchDType.Int8),
            "ByteStorage" => (true, TorchDType.UInt8),
            "BoolStorage" => (true, TorchDType.Bool),
            _ => (false, default),
        };
        return known;
    }

    public static int ElementSize(this TorchDType dtype) => dtype switch
    {
        TorchDType.Float64 or TorchDType.Int64 => 8,
        TorchDType.Float32 or TorchDType.Int32 => 4,
        TorchDType.Float16 or TorchDType.BFloat16 or TorchDType.Int16 => 2,
        _ => 1,
    };
}
