using System.IO.Compression;

namespace NanoPose.WeightsTools.Tests.Checkpoints;

/// <summary>A tensor as torch.save would store it: a view (offset, size, stride) of storage <see cref="Key"/>.</summary>
internal sealed record StoredTensor(string Name, string StorageClass, string Key, byte[] Storage, int ElementSize, long Offset, long[] Size, long[] Stride)
{
    public long StorageElements => Storage.Length / ElementSize;

    public static StoredTensor Float32(string name, string key, float[] storage, long offset, long[] size, long[] stride)
        => new(name, "FloatStorage", key, [.. storage.SelectMany(BitConverter.GetBytes)], 4, offset, size, stride);
}

/// <summary>Writes small torch.save files (zip or legacy) the way PyTorch lays them out.</summary>
internal static class SyntheticCheckpoint
{
    /// <summary>The pickle of the state dict; <paramref name="wrapper"/> null gives a bare OrderedDict,
    /// otherwise <c>{'meta': {}, wrapper: OrderedDict}</c>. Legacy persistent ids carry a sixth item (view metadata).</summary>
    public static byte[] Pickle(IReadOnlyList<StoredTensor> tensors, string? wrapper, bool legacy)
    {
        var p = new PickleBuilder().Proto();
        if (wrapper is not null) p.EmptyDict().Mark().Str("meta").EmptyDict().Str(wrapper);
        p.Global("collections", "OrderedDict").EmptyTuple().Reduce().Mark();
        foreach (var t in tensors)
        {
            p.Str(t.Name).Tensor(id =>
            {
                id.Mark().Str("storage").Global("torch", t.StorageClass).Str(t.Key).Str("cpu").Int(t.StorageElements);
                if (legacy) id.None();
                id.Tuple();
            }, t.Offset, t.Size, t.Stride);
        }
        p.SetItems();
        if (wrapper is not null) p.SetItems();
        return p.Stop().ToArray();
    }

    public static byte[] Zip(IReadOnlyList<StoredTensor> tensors, string? wrapper = "state_dict", string folder = "archive")
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            Add(zip, $"{folder}/data.pkl", Pickle(tensors, wrapper, legacy: false));
            foreach (var t in Distinct(tensors)) Add(zip, $"{folder}/data/{t.Key}", t.Storage);
            Add(zip, $"{folder}/version", "3\n"u8.ToArray());
        }
        return buffer.ToArray();
    }

    public static void Add(ZipArchive zip, string name, byte[] content, CompressionLevel level = CompressionLevel.NoCompression)
    {
        using var stream = zip.CreateEntry(name, level).Open();
        stream.Write(content);
    }

    public static byte[] Legacy(IReadOnlyList<StoredTensor> tensors, string? wrapper = "state_dict")
    {
        var file = new List<byte>();
        // MAGIC_NUMBER 0x1950a86a20f9469cfc6c as LONG1, then PROTOCOL_VERSION 1001, then sys_info.
        file.AddRange(new PickleBuilder().Proto().Op(0x8A, 10, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19).Stop().ToArray());
        file.AddRange(new PickleBuilder().Proto().Op((byte)'M', 0xE9, 0x03).Stop().ToArray());
        file.AddRange(new PickleBuilder().Proto().EmptyDict().Mark().Str("protocol_version").Int(1001).Str("little_endian").Bool(true).SetItems().Stop().ToArray());
        file.AddRange(Pickle(tensors, wrapper, legacy: true));
        var stored = Distinct(tensors);
        var keys = new PickleBuilder().Proto().EmptyList().Mark();
        foreach (var t in stored) keys.Str(t.Key);
        file.AddRange(keys.Appends().Stop().ToArray());
        foreach (var t in stored)
        {
            file.AddRange(BitConverter.GetBytes(t.StorageElements));
            file.AddRange(t.Storage);
        }
        return [.. file];
    }

    private static List<StoredTensor> Distinct(IReadOnlyList<StoredTensor> tensors) => [.. tensors.DistinctBy(t => t.Key)];
}
