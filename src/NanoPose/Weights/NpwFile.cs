using System.Buffers.Binary;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Text;
using NanoPose.IO;

namespace NanoPose.Weights;

/// <summary>
/// A verified .npw weight file (layout in NPW-FORMAT.md). Opening checks everything before any tensor is
/// handed out — length, magic, version, checksum, the layout of every section and tensor — and throws a
/// <see cref="WeightFileException"/> naming the file and the problem. Nothing is allocated beyond the file itself.
/// </summary>
public sealed class NpwFile
{
    private readonly ReadOnlyMemory<byte> _bytes;
    private readonly long _dataOffset;
    private readonly Dictionary<string, NpwTensorInfo> _byName;
    // The tensors a network builder has asked for (GetTensor), so that one it never asks for is refused by name.
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    /// <summary>The largest .npw file read: 512 MiB, more than 10× the largest model here (EfficientHRNet H0 in
    /// float32, 27 MB); the file is held in memory while the network is built.</summary>
    public const long MaxFileBytes = 512L << 20;

    /// <summary>The most architecture properties a file may hold: the families here use at most 20.</summary>
    public const int MaxProperties = 4096;

    private NpwFile(string source, ReadOnlyMemory<byte> bytes, ModelArchitecture architecture, List<NpwTensorInfo> tensors, long dataOffset)
    {
        (Source, _bytes, Architecture, Tensors, _dataOffset) = (source, bytes, architecture, tensors, dataOffset);
        _byName = tensors.ToDictionary(t => t.Name);
    }

    /// <summary>The path (or name) the file was read from; every error message starts with it.</summary>
    public string Source { get; }
    public ModelArchitecture Architecture { get; }
    public IReadOnlyList<NpwTensorInfo> Tensors { get; }

    /// <summary>Reads and verifies a .npw file: only a regular file of at most <see cref="MaxFileBytes"/> is read (a FIFO,
    /// a device or a folder is refused by name with an <see cref="InputFileException"/>).</summary>
    public static NpwFile Load(string path) => Parse(InputFile.ReadAllBytes(path, MaxFileBytes, "weight"), path);

    public static NpwFile Parse(byte[] bytes, string source)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        return Parse(bytes.AsMemory(), source);
    }

    /// <summary>Verifies a .npw file held in <paramref name="memory"/>, which must stay unchanged while the file is in
    /// use: the tensors are read from it, not copied (the built-in models are read in place from the assembly).</summary>
    public static NpwFile Parse(ReadOnlyMemory<byte> memory, string source)
    {
        WeightFileException Bad(string problem) => new(source, problem);
        var bytes = memory.Span;

        const int minimum = NpwFormat.HeaderSize + NpwFormat.TrailerSize;
        if (bytes.Length < minimum) throw Bad($"truncated: {bytes.Length} bytes, a weight file has at least {minimum}");
        var header = bytes[..NpwFormat.HeaderSize];
        if (!header[..8].SequenceEqual(NpwFormat.Magic))
            throw Bad($"bad magic {Convert.ToHexString(header[..8])}, expected {Convert.ToHexString(NpwFormat.Magic)} (not a .npw file)");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        if (version != NpwFormat.Version) throw Bad($"unsupported format version {version}, this reader knows version {NpwFormat.Version}");
        ulong fileLength = BinaryPrimitives.ReadUInt64LittleEndian(header[16..]);
        if (fileLength > (ulong)bytes.Length) throw Bad($"truncated: the header says {fileLength} bytes, found {bytes.Length}");
        if (fileLength < (ulong)bytes.Length) throw Bad($"{(ulong)bytes.Length - fileLength} unexpected bytes after the end ({fileLength} bytes expected, found {bytes.Length})");

        int bodyLength = bytes.Length - NpwFormat.TrailerSize;
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(bytes[bodyLength..]);
        uint actual = Crc32C.Compute(bytes[..bodyLength]);
        if (stored != actual) throw Bad($"checksum mismatch: stored CRC-32C {stored:X8}, content gives {actual:X8} (the file is corrupted)");

        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(header[12..]);
        ulong metadataOffset = BinaryPrimitives.ReadUInt64LittleEndian(header[24..]);
        ulong metadataLength = BinaryPrimitives.ReadUInt64LittleEndian(header[32..]);
        ulong dataOffset = BinaryPrimitives.ReadUInt64LittleEndian(header[40..]);
        ulong dataLength = BinaryPrimitives.ReadUInt64LittleEndian(header[48..]);
        uint tensorCount = BinaryPrimitives.ReadUInt32LittleEndian(header[56..]);
        if (flags != 0) throw Bad($"unknown flags {flags:X8}");
        if (metadataOffset != NpwFormat.HeaderSize) throw Bad($"metadata offset {metadataOffset}, expected {NpwFormat.HeaderSize}");
        if (dataOffset % NpwFormat.Alignment != 0) throw Bad($"data offset {dataOffset} is not {NpwFormat.Alignment}-byte aligned");
        if (dataOffset > (ulong)bodyLength || dataLength != (ulong)bodyLength - dataOffset)
            throw Bad($"data section [{dataOffset}, +{dataLength}) does not end at the checksum (byte {bodyLength})");
        if (dataOffset < metadataOffset || metadataLength > dataOffset - metadataOffset)
            throw Bad($"metadata [{metadataOffset}, +{metadataLength}) runs past the data offset {dataOffset}");

        var reader = new MetadataReader(bytes.Slice((int)metadataOffset, (int)metadataLength), source);
        var architecture = ReadArchitecture(ref reader);
        var tensors = new List<NpwTensorInfo>();
        var names = new HashSet<string>();
        for (uint i = 0; i < tensorCount; i++)
        {
            var tensor = ReadTensorEntry(ref reader, (long)dataLength, Bad);
            if (!names.Add(tensor.Name)) throw Bad($"tensor '{tensor.Name}' appears twice");
            tensors.Add(tensor);
        }
        if (reader.Remaining != 0) throw Bad($"{reader.Remaining} unexplained bytes at the end of the metadata");

        var byOffset = tensors.OrderBy(t => t.Offset).ToList();
        for (int i = 1; i < byOffset.Count; i++)
        {
            var (previous, next) = (byOffset[i - 1], byOffset[i]);
            if (previous.Offset + previous.ByteLength > next.Offset)
                throw Bad($"tensors '{previous.Name}' [{previous.Offset}, +{previous.ByteLength}) and '{next.Name}' [{next.Offset}, +{next.ByteLength}) overlap");
        }
        return new NpwFile(source, memory, architecture, tensors, (long)dataOffset);
    }

    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>
    /// Reads a model family's configuration from <see cref="Architecture"/> with <paramref name="read"/>. The checksum
    /// only proves the description arrived as written: one the family cannot use (a missing or mistyped key, a value
    /// out of range or beyond an int) is a bad weight file, reported as a <see cref="WeightFileException"/> naming it.
    /// </summary>
    public T ReadConfiguration<T>(Func<ModelArchitecture, T> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        try
        {
            return read(Architecture);
        }
        catch (Exception e) when (e is ArgumentException or KeyNotFoundException or InvalidOperationException or OverflowException)
        {
            throw new WeightFileException(Source, $"architecture {Architecture.Family}/{Architecture.Variant}: {e.Message}");
        }
    }

    /// <summary>The tensor's values as float32 (float16 tensors are widened), after checking its shape.</summary>
    public float[] GetTensor(string name, params ReadOnlySpan<int> expectedShape)
    {
        if (!_byName.TryGetValue(name, out var info)) throw new WeightFileException(Source, $"tensor '{name}' is missing");
        lock (_used) _used.Add(name);
        if (!info.Shape.AsSpan().SequenceEqual(expectedShape))
            throw new WeightFileException(Source, $"tensor '{name}' has shape [{string.Join(", ", info.Shape)}], expected [{string.Join(", ", expectedShape.ToArray())}]");
        return ReadValues(info);
    }

    /// <summary>
    /// Refuses a file holding tensors that the network built from it never asked for (<see cref="GetTensor"/>): a
    /// file for another variant, or one edited by hand, would otherwise run with weights silently left out.
    /// Called by each family's loader once its network is built.
    /// </summary>
    public void RequireEveryTensorUsed()
    {
        List<string> unused;
        lock (_used) unused = [.. Tensors.Where(t => !_used.Contains(t.Name)).Select(t => t.Name)];
        if (unused.Count == 0) return;
        const int Shown = 10;
        string names = string.Join(", ", unused.Take(Shown).Select(n => $"'{n}'")) + (unused.Count > Shown ? $" and {unused.Count - Shown} more" : "");
        throw new WeightFileException(Source,
            $"{unused.Count} of its {Tensors.Count} tensors are not used by the {Architecture.Family}/{Architecture.Variant} network it describes: {names}");
    }

    /// <summary>The values of a table entry as float32, whatever its shape.</summary>
    public float[] ReadValues(NpwTensorInfo info)
    {
        var bytes = _bytes.Span.Slice((int)(_dataOffset + info.Offset), (int)info.ByteLength);
        var values = new float[info.ElementCount];
        if (info.DType == WeightDType.Float16) TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(bytes), values);
        else MemoryMarshal.Cast<byte, float>(bytes).CopyTo(values);
        return values;
    }

    private static ModelArchitecture ReadArchitecture(ref MetadataReader reader)
    {
        string family = reader.ReadString("family"), variant = reader.ReadString("variant");
        if (family.Length == 0 || variant.Length == 0) throw reader.Bad("the architecture family or variant is empty");
        var architecture = new ModelArchitecture(family, variant);
        uint count = reader.ReadUInt32("property count");
        if (count > MaxProperties) throw reader.Bad($"the architecture has {count} properties, at most {MaxProperties} are allowed");
        for (uint i = 0; i < count; i++)
        {
            string key = reader.ReadString("property key");
            if (key.Length == 0) throw reader.Bad("an architecture property has an empty key");
            var kind = (ArchitectureValueKind)reader.ReadByte($"kind of property '{key}'");
            ArchitectureValue value;
            switch (kind)
            {
                case ArchitectureValueKind.Int: value = ArchitectureValue.Of(reader.ReadInt64(key)); break;
                case ArchitectureValueKind.Float: value = ArchitectureValue.Of(BitConverter.Int64BitsToDouble(reader.ReadInt64(key))); break;
                case ArchitectureValueKind.String: value = ArchitectureValue.Of(reader.ReadString(key)); break;
                case ArchitectureValueKind.IntList:
                    uint n = reader.ReadUInt32($"length of '{key}'");
                    reader.Require((long)n * 8, $"values of '{key}'");
                    var list = new long[n];
                    for (int j = 0; j < list.Length; j++) list[j] = reader.ReadInt64(key);
                    value = ArchitectureValue.Of(list);
                    break;
                default: throw reader.Bad($"property '{key}' has unknown kind {(byte)kind}");
            }
            if (architecture.TryGet(key, out _)) throw reader.Bad($"property '{key}' appears twice");
            architecture.Set(key, value);
        }
        return architecture;
    }

    private static NpwTensorInfo ReadTensorEntry(ref MetadataReader reader, long dataLength, Func<string, WeightFileException> bad)
    {
        string name = reader.ReadString("tensor name");
        if (name.Length == 0) throw bad("a tensor has an empty name");
        var dtype = (WeightDType)reader.ReadByte($"dtype of '{name}'");
        if (dtype is not (WeightDType.Float32 or WeightDType.Float16)) throw bad($"tensor '{name}' has unknown dtype {(byte)dtype}");
        int rank = reader.ReadByte($"rank of '{name}'");
        if (rank > NpwFormat.MaxRank) throw bad($"tensor '{name}' has rank {rank}, at most {NpwFormat.MaxRank} is allowed");
        var shape = new int[rank];
        long count = 1;
        for (int i = 0; i < rank; i++)
        {
            uint d = reader.ReadUInt32($"shape of '{name}'");
            // A tensor can never be larger than the data section, so any product beyond it is an error, not an overflow.
            if (d > int.MaxValue || (d != 0 && count > dataLength / d))
                throw bad($"dims of tensor '{name}' overflow: dimension {i} is {d}, the product exceeds the {dataLength}-byte data section");
            shape[i] = (int)d;
            count *= d;
        }
        ulong offset = reader.ReadUInt64($"offset of '{name}'");
        ulong byteLength = reader.ReadUInt64($"byte length of '{name}'");
        long expected = count * NpwFormat.ElementSize(dtype);
        if (byteLength != (ulong)expected) throw bad($"tensor '{name}' has {byteLength} bytes, its shape and dtype need {expected}");
        if (offset % NpwFormat.Alignment != 0) throw bad($"tensor '{name}' offset {offset} is not {NpwFormat.Alignment}-byte aligned");
        if (offset > (ulong)dataLength || byteLength > (ulong)dataLength - offset)
            throw bad($"tensor '{name}' [{offset}, +{byteLength}) is out of range of the {dataLength}-byte data section");
        return new NpwTensorInfo(name, dtype, shape, (long)offset, (long)byteLength);
    }

    /// <summary>Reads the metadata section; every read checks the bytes are there first.</summary>
    private ref struct MetadataReader(ReadOnlySpan<byte> span, string source)
    {
        private ReadOnlySpan<byte> _rest = span;
        private readonly string _source = source;

        public readonly int Remaining => _rest.Length;

        public readonly WeightFileException Bad(string problem) => new(_source, problem);

        public readonly void Require(long count, string what)
        {
            if (count > _rest.Length) throw Bad($"metadata truncated: {what} needs {count} bytes, {_rest.Length} left");
        }

        public byte ReadByte(string what) { Require(1, what); byte v = _rest[0]; _rest = _rest[1..]; return v; }
        public uint ReadUInt32(string what) { Require(4, what); uint v = BinaryPrimitives.ReadUInt32LittleEndian(_rest); _rest = _rest[4..]; return v; }
        public long ReadInt64(string what) { Require(8, what); long v = BinaryPrimitives.ReadInt64LittleEndian(_rest); _rest = _rest[8..]; return v; }
        public ulong ReadUInt64(string what) => (ulong)ReadInt64(what);

        public string ReadString(string what)
        {
            uint length = ReadUInt32(what);
            Require(length, what);
            try
            {
                string s = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(_rest[..(int)length]);
                _rest = _rest[(int)length..];
                return s;
            }
            catch (DecoderFallbackException) { throw Bad($"{what} is not valid UTF-8"); }
        }
    }
}
