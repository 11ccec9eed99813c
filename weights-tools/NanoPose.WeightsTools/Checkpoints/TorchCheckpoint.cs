using System.Buffers.Binary;
using System.IO.Compression;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using NanoPose.IO;

namespace NanoPose.WeightsTools.Checkpoints;

/// <summary>
/// Reads the state dict of a file written by torch.save — the zip archive of PyTorch ≥ 1.6 or the legacy
/// pre-1.6 stream — through the <see cref="RestrictedUnpickler"/>, so a checkpoint can never run code.
/// Accepts mmcv-style <c>{'meta', 'state_dict'}</c>, <c>{'state_dict'}</c>, <c>{'best_state_dict'}</c> or a bare
/// state dict, and strips a <c>module.</c> prefix (DataParallel).
/// </summary>
public static class TorchCheckpoint
{
    /// <summary>The first pickle of a legacy file holds this number (torch/serialization.py MAGIC_NUMBER).</summary>
    private static readonly BigInteger LegacyMagic = BigInteger.Parse("119547037146038801333356");
    private const long LegacyProtocolVersion = 1001;
    /// <summary>torch.save stores entries uncompressed; an entry inflating far beyond the archive is not a checkpoint.</summary>
    private const long MaxCompressionRatio = 100;

    /// <summary>Reads a checkpoint file: a regular file of at most <see cref="Array.MaxLength"/> bytes (a FIFO or a
    /// device is refused by name, see <see cref="InputFile"/>).</summary>
    public static Checkpoint Load(string path) => Parse(InputFile.ReadAllBytes(path, Array.MaxLength, "checkpoint"), path);

    /// <summary>Reads a checkpoint held in memory, within the <see cref="CheckpointBudget"/> of its size.</summary>
    public static Checkpoint Parse(byte[] bytes, string source)
    {
        var budget = new CheckpointBudget(bytes.Length, source);
        if (bytes.AsSpan().StartsWith("PK\x03\x04"u8)) return ReadZip(bytes, source, budget);
        if (bytes.Length > 0 && bytes[0] == 0x80) return ReadLegacy(bytes, source, budget);
        throw new CheckpointException(source, "not a PyTorch checkpoint (neither a zip archive nor a legacy pickle stream)");
    }

    private static Checkpoint ReadZip(byte[] bytes, string source, CheckpointBudget budget)
    {
        try
        {
            using var zip = new ZipArchive(new MemoryStream(bytes, writable: false), ZipArchiveMode.Read);
            long claimed = 0;
            foreach (var entry in zip.Entries)
            {
                if (entry.FullName.Split('/', '\\').Contains("..") || entry.FullName.StartsWith('/'))
                    throw new CheckpointException(source, $"zip entry '{entry.FullName}' has an unsafe path");
                // Sizes straight from the archive's headers: a zip64 field can hold any 64-bit pattern.
                if (entry.Length < 0 || entry.CompressedLength < 0)
                    throw new CheckpointException(source, $"zip entry '{entry.FullName}' has a negative size field (uncompressed {entry.Length}, compressed {entry.CompressedLength})");
                if (entry.CompressedLength > bytes.Length)
                    throw new CheckpointException(source, $"zip entry '{entry.FullName}' claims {entry.CompressedLength} compressed bytes, more than the {bytes.Length}-byte archive");
                if (entry.Length > MaxCompressionRatio * bytes.Length)
                    throw new CheckpointException(source, $"zip entry '{entry.FullName}' claims {entry.Length} bytes, unreasonable for a {bytes.Length}-byte archive");
                // Many entries each under the ratio could still inflate together far beyond the archive.
                claimed += entry.Length;
                if (claimed > MaxCompressionRatio * bytes.Length)
                    throw new CheckpointException(source, $"the zip entries up to '{entry.FullName}' claim {claimed} bytes together, unreasonable for a {bytes.Length}-byte archive");
            }
            // The top folder is named after the file that was saved; data.pkl sits directly inside it.
            var pickles = zip.Entries.Where(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal)
                                                && e.FullName.Count(c => c == '/') == 1).ToList();
            if (pickles.Count != 1) throw new CheckpointException(source, $"expected one <folder>/data.pkl in the archive, found {pickles.Count}");
            string prefix = pickles[0].FullName[..^"data.pkl".Length];
            var byteOrder = zip.GetEntry(prefix + "byteorder");
            if (byteOrder is not null && System.Text.Encoding.ASCII.GetString(ReadEntry(byteOrder, source, budget)) != "little")
                throw new CheckpointException(source, "big-endian checkpoints are not supported");

            string pickleSource = $"{source} ({pickles[0].FullName})";
            var storages = new Dictionary<string, TorchStorage>();
            byte[] pickle = ReadEntry(pickles[0], source, budget);
            int position = 0;
            object? root = RestrictedUnpickler.Load(pickle, ref position, pickleSource,
                pid => ResolveZipPersistentId(pid, pickleSource, storages), budget);

            var data = new Dictionary<string, byte[]>();
            foreach (var storage in storages.Values)
            {
                var entry = zip.GetEntry($"{prefix}data/{storage.Key}")
                    ?? throw new CheckpointException(source, $"storage '{storage.Key}' is referenced but {prefix}data/{storage.Key} is missing");
                // Int128: a hostile element count times the element size must not wrap around to the entry's length.
                Int128 expected = (Int128)storage.ElementCount * storage.DType.ElementSize();
                if (entry.Length != expected)
                    throw new CheckpointException(source, $"{entry.FullName} has {entry.Length} bytes, its {storage.ElementCount} {storage.DType} elements need {expected}");
                data[storage.Key] = ReadEntry(entry, source, budget);
            }
            return BuildCheckpoint(root, data, source, CheckpointFormat.Zip, budget);
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException or IOException)
        {
            // What System.IO.Compression throws for a broken archive (bad headers, an unknown compression method,
            // an entry that ends early).
            throw new CheckpointException(source, $"corrupt or truncated zip archive: {e.Message}");
        }
    }

    /// <summary>Zip persistent ids: ('storage', storage_class, key, location, element_count).</summary>
    private static TorchStorage ResolveZipPersistentId(object? pid, string source, Dictionary<string, TorchStorage> storages)
    {
        if (pid is not PickleTuple { Count: 5 } t || t[0] is not "storage" || t[1] is not PickleGlobal type
            || !TorchDTypes.TryFromStorageClass(type.Name, out var dtype) || t[2] is not string key || t[4] is not long count || count < 0)
            throw new CheckpointException(source, $"unexpected persistent id {RestrictedUnpickler.Show(pid)}");
        return Remember(storages, new TorchStorage(dtype, key, 0, count), source);
    }

    private static TorchStorage Remember(Dictionary<string, TorchStorage> storages, TorchStorage storage, string source)
    {
        if (storages.TryGetValue(storage.Key, out var known) && known != storage)
            throw new CheckpointException(source, $"storage '{storage.Key}' is referenced with two different types or sizes");
        return storages[storage.Key] = storage;
    }

    private static byte[] ReadEntry(ZipArchiveEntry entry, string source, CheckpointBudget budget)
    {
        if (entry.Length > Array.MaxLength) throw new CheckpointException(source, $"zip entry '{entry.FullName}' claims {entry.Length} bytes, more than an array can hold");
        budget.Reserve(entry.Length, $"zip entry '{entry.FullName}'");
        var buffer = new byte[entry.Length];
        using var stream = entry.Open();
        int read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        if (read < buffer.Length) throw new CheckpointException(source, $"zip entry '{entry.FullName}' holds {read} bytes, {entry.Length} declared (truncated?)");
        if (stream.ReadByte() >= 0) throw new CheckpointException(source, $"zip entry '{entry.FullName}' holds more than its declared {entry.Length} bytes");
        return buffer;
    }

    /// <summary>
    /// Legacy layout: pickles of the magic number, the protocol version and sys_info; the main pickle, whose
    /// persistent ids are ('storage', storage_class, key, location, element_count, view_metadata); a pickled list of
    /// storage keys; then per key an 8-byte little-endian element count and the raw little-endian elements.
    /// </summary>
    private static Checkpoint ReadLegacy(byte[] bytes, string source, CheckpointBudget budget)
    {
        int position = 0;
        if (RestrictedUnpickler.Load(bytes, ref position, source, budget: budget) is not BigInteger magic || magic != LegacyMagic)
            throw new CheckpointException(source, "not a PyTorch checkpoint (the legacy magic number is missing)");
        if (RestrictedUnpickler.Load(bytes, ref position, source, budget: budget) is not LegacyProtocolVersion)
            throw new CheckpointException(source, "unsupported legacy protocol version");
        if (RestrictedUnpickler.Load(bytes, ref position, source, budget: budget) is not PickleDict sysInfo
            || !sysInfo.TryGet("little_endian", out object? little) || little is not true)
            throw new CheckpointException(source, "legacy sys_info missing or not little-endian");

        var roots = new Dictionary<string, TorchStorage>();
        object? root = RestrictedUnpickler.Load(bytes, ref position, source, pid => ResolveLegacyPersistentId(pid, source, roots), budget);
        if (RestrictedUnpickler.Load(bytes, ref position, source, budget: budget) is not List<object?> keys || keys.Any(k => k is not string))
            throw new CheckpointException(source, "the legacy storage key list is missing");

        var data = new Dictionary<string, byte[]>();
        foreach (string key in keys.Cast<string>())
        {
            if (!roots.TryGetValue(key, out var storage)) throw new CheckpointException(source, $"storage '{key}' is stored but never referenced");
            if (data.ContainsKey(key)) throw new CheckpointException(source, $"storage '{key}' is stored twice");
            if (bytes.Length - position < 8) throw new CheckpointException(source, $"truncated: the size of storage '{key}' is missing at byte {position}");
            long count = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(position));
            position += 8;
            int size = storage.DType.ElementSize();
            if (count != storage.ElementCount)
                throw new CheckpointException(source, $"storage '{key}' holds {count} elements, the pickle says {storage.ElementCount}");
            if (count > (bytes.Length - position) / size)
                throw new CheckpointException(source, $"truncated: storage '{key}' needs {count * size} bytes at byte {position}, {bytes.Length - position} left");
            budget.Reserve(count * size, $"storage '{key}'");
            data[key] = bytes.AsSpan(position, (int)count * size).ToArray();
            position += (int)count * size;
        }
        if (data.Count != roots.Count) throw new CheckpointException(source, $"{roots.Count - data.Count} referenced storages are not in the file");
        if (position != bytes.Length) throw new CheckpointException(source, $"{bytes.Length - position} unexpected bytes after the last storage");
        return BuildCheckpoint(root, data, source, CheckpointFormat.Legacy, budget);
    }

    private static TorchStorage ResolveLegacyPersistentId(object? pid, string source, Dictionary<string, TorchStorage> roots)
    {
        if (pid is not PickleTuple { Count: 6 } t || t[0] is not "storage" || t[1] is not PickleGlobal type
            || !TorchDTypes.TryFromStorageClass(type.Name, out var dtype) || t[2] is not string key || t[4] is not long count || count < 0)
            throw new CheckpointException(source, $"unexpected persistent id {RestrictedUnpickler.Show(pid)}");
        var storage = Remember(roots, new TorchStorage(dtype, key, 0, count), source);
        if (t[5] is null) return storage;
        // A view of the root storage: (view_key, element_offset, element_count).
        if (t[5] is not PickleTuple { Count: 3 } view || view[1] is not long offset || view[2] is not long viewCount
            || offset < 0 || viewCount < 0 || offset > count - viewCount)
            throw new CheckpointException(source, $"bad storage view {RestrictedUnpickler.Show(t[5])} of '{key}' ({count} elements)");
        return new TorchStorage(dtype, key, offset, viewCount);
    }

    /// <summary>Finds the state dict inside the unpickled object and materialises its tensors.</summary>
    private static Checkpoint BuildCheckpoint(object? root, Dictionary<string, byte[]> storageData, string source, CheckpointFormat format, CheckpointBudget budget)
    {
        if (root is not PickleDict top) throw new CheckpointException(source, $"the checkpoint holds {RestrictedUnpickler.Describe(root)}, not a dict");
        PickleDict stateDict = top;
        foreach (string wrapper in (string[])["state_dict", "best_state_dict"])
        {
            if (!top.TryGet(wrapper, out object? inner)) continue;
            stateDict = inner as PickleDict ?? throw new CheckpointException(source, $"'{wrapper}' is {RestrictedUnpickler.Describe(inner)}, not a dict");
            break;
        }

        var tensors = new List<CheckpointTensor>();
        var names = new HashSet<string>();
        foreach (var (key, value) in stateDict.Items)
        {
            if (key is not string name) throw new CheckpointException(source, $"state dict key {RestrictedUnpickler.Show(key)} is not a string");
            if (value is not TorchTensorView view)
                throw new CheckpointException(source, $"'{RestrictedUnpickler.Truncate(name)}' is {RestrictedUnpickler.Describe(value)}, not a tensor (top-level keys: "
                    + string.Join(", ", top.Items.Take(RestrictedUnpickler.MaxShownItems).Select(i => RestrictedUnpickler.Show(i.Key)))
                    + (top.Items.Count > RestrictedUnpickler.MaxShownItems ? $", … {top.Items.Count} in all)" : ")"));
            if (name.StartsWith("module.", StringComparison.Ordinal)) name = name["module.".Length..];
            if (!names.Add(name)) throw new CheckpointException(source, $"tensor '{name}' appears twice (with and without 'module.')");
            tensors.Add(Materialise(name, view, storageData[view.Storage.Key], source, budget));
        }
        return new Checkpoint(source, format, tensors);
    }

    /// <summary>Copies a strided view out of its storage into a C-contiguous float32 array, checking every bound.</summary>
    private static CheckpointTensor Materialise(string name, TorchTensorView view, byte[] storageBytes, string source, CheckpointBudget budget)
    {
        var (storage, offset, shape, strides) = view;
        CheckpointException Bad(string problem) => new(source, $"tensor '{RestrictedUnpickler.Truncate(name)}': {problem}");
        if (shape.Length != strides.Length) throw Bad($"{shape.Length} sizes but {strides.Length} strides");
        if (offset < 0) throw Bad($"negative storage offset {offset}");
        // Dimensions are ints from here on; checked first, since a zero elsewhere in the shape skips the bound below.
        for (int i = 0; i < shape.Length; i++)
            if (shape[i] > int.MaxValue) throw Bad($"size [{string.Join(", ", shape)}]: dimension {i} is {shape[i]}, more than {int.MaxValue}");

        long count = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] < 0 || strides[i] < 0) throw Bad($"negative size or stride in [{string.Join(", ", shape)}] / [{string.Join(", ", strides)}]");
            if (shape[i] == 0) { count = 0; continue; }
            // Bounded: no tensor may hold more elements than its storage (expanded, stride-0 tensors are refused).
            if (count > 0 && shape[i] > storage.ElementCount / count)
                throw Bad($"size [{string.Join(", ", shape)}] has more elements than its {storage.ElementCount}-element storage");
            count *= shape[i];
        }
        if (count > 0)
        {
            // The last element the view reaches, in Int128 so hostile offsets and strides cannot wrap around: every
            // term is below 2^126 and the sum stops growing once it is past the storage.
            Int128 lastIndex = offset;
            for (int i = 0; i < shape.Length && lastIndex < storage.ElementCount; i++) lastIndex += (Int128)(shape[i] - 1) * strides[i];
            if (lastIndex >= storage.ElementCount)
                throw Bad($"view (offset {offset}, size [{string.Join(", ", shape)}], stride [{string.Join(", ", strides)}]) reaches element {lastIndex} of a {storage.ElementCount}-element storage");
        }

        // Each tensor is its own float32 copy, even when many view one storage: counted one by one.
        budget.Reserve(count * sizeof(float), $"tensor '{RestrictedUnpickler.Truncate(name)}' ({count} elements)");
        var values = new float[count];
        var elements = storageBytes.AsSpan((int)storage.ElementOffset * storage.DType.ElementSize());
        if (IsContiguous(shape, strides)) Widen(elements, storage.DType, (int)offset, values);
        else
        {
            // Gather element by element in C order (only non-contiguous views pay this).
            var index = new long[shape.Length];
            for (int i = 0; i < values.Length; i++)
            {
                long at = offset;
                for (int k = 0; k < shape.Length; k++) at += index[k] * strides[k];
                Widen(elements, storage.DType, (int)at, values.AsSpan(i, 1));
                for (int k = shape.Length - 1; k >= 0 && ++index[k] == shape[k]; k--) index[k] = 0;
            }
        }
        return new CheckpointTensor(name, storage.DType, [.. shape.Select(d => (int)d)], values);
    }

    private static bool IsContiguous(long[] shape, long[] strides)
    {
        long expected = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            if (shape[i] != 1 && strides[i] != expected) return false;
            expected *= shape[i];
        }
        return true;
    }

    /// <summary>Widens destination.Length elements of <paramref name="dtype"/>, starting at element <paramref name="start"/>, to float32.</summary>
    private static void Widen(ReadOnlySpan<byte> storage, TorchDType dtype, int start, Span<float> destination)
    {
        int size = dtype.ElementSize();
        var bytes = storage.Slice(start * size, destination.Length * size);
        switch (dtype)
        {
            case TorchDType.Float32: MemoryMarshal.Cast<byte, float>(bytes).CopyTo(destination); break;
            case TorchDType.Float16: TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(bytes), destination); break;
            case TorchDType.BFloat16:
                var raw = MemoryMarshal.Cast<byte, ushort>(bytes);
                for (int i = 0; i < destination.Length; i++) destination[i] = BitConverter.Int32BitsToSingle(raw[i] << 16);
                break;
            case TorchDType.Float64: TensorPrimitives.ConvertTruncating(MemoryMarshal.Cast<byte, double>(bytes), destination); break;
            case TorchDType.Int64: TensorPrimitives.ConvertTruncating(MemoryMarshal.Cast<byte, long>(bytes), destination); break;
            case TorchDType.Int32: TensorPrimitives.ConvertTruncating(MemoryMarshal.Cast<byte, int>(bytes), destination); break;
            case TorchDType.Int16: TensorPrimitives.ConvertTruncating(MemoryMarshal.Cast<byte, short>(bytes), destination); break;
            case TorchDType.Int8: TensorPrimitives.ConvertTruncating(MemoryMarshal.Cast<byte, sbyte>(bytes), destination); break;
            default: TensorPrimitives.ConvertTruncating(bytes, destination); break;   // UInt8, Bool
        }
    }
}
