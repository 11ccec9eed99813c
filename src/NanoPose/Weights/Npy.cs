using System.Buffers.Binary;
using System.Globalization;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Text;

namespace NanoPose.Weights;

/// <summary>The element types NanoPose reads and writes in .npy files (little-endian, C order).</summary>
public enum NpyDType { Float32, Float16, UInt8 }

/// <summary>An array from a .npy file. Values are held as float32 whatever the stored type
/// (float16 and uint8 convert exactly); <see cref="DType"/> says how they were stored.</summary>
public sealed record NpyArray(NpyDType DType, int[] Shape, float[] Data);

/// <summary>
/// numpy's .npy format, versions 1.0 and 2.0: magic "\x93NUMPY", version, header length, a Python dict literal
/// <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (1, 3, 256, 192), }</c>, then the raw C-order data.
/// Only <c>&lt;f4</c>, <c>&lt;f2</c> and <c>|u1</c> in C order are accepted; anything else is refused by name.
/// </summary>
public static class Npy
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>The largest .npy file read: 1 GiB (its values are then held as float32, up to 4× the bytes of a uint8 array).</summary>
    public const long MaxFileBytes = 1L << 30;

    /// <summary>Reads a regular file of at most <see cref="MaxFileBytes"/> (a FIFO, a device or a folder is refused by
    /// name with an <see cref="IO.InputFileException"/>).</summary>
    public static NpyArray Read(string path) => Parse(IO.InputFile.ReadAllBytes(path, MaxFileBytes, ".npy"), path);

    public static NpyArray Parse(ReadOnlySpan<byte> bytes, string source)
    {
        InvalidDataException Bad(string problem) => new(IO.Printable.Text($"{source}: {problem}"));

        if (bytes.Length < 10 || !bytes[..6].SequenceEqual(Magic)) throw Bad("not an .npy file (bad magic)");
        byte major = bytes[6];
        int prefix = major switch { 1 => 10, 2 => 12, _ => throw Bad($"unsupported .npy version {major}.{bytes[7]} (1.0 and 2.0 are supported)") };
        if (bytes.Length < prefix) throw Bad($"truncated: {bytes.Length} bytes, the header length field needs {prefix}");
        long headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]) : BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]);
        if (headerLength > bytes.Length - prefix) throw Bad($"truncated: header of {headerLength} bytes, {bytes.Length - prefix} present");
        string header = Encoding.Latin1.GetString(bytes.Slice(prefix, (int)headerLength));
        var (descr, fortranOrder, shape) = ParseHeader(header, source);

        var dtype = descr switch
        {
            "<f4" => NpyDType.Float32,
            "<f2" => NpyDType.Float16,
            "|u1" or "<u1" => NpyDType.UInt8,
            _ => throw Bad($"unsupported dtype '{descr}' (only <f4, <f2 and |u1 are supported)"),
        };
        if (fortranOrder) throw Bad("fortran_order arrays are not supported (save a C-order array, e.g. np.ascontiguousarray)");

        var data = bytes[(prefix + (int)headerLength)..];
        int size = ElementSize(dtype);
        long count = 1;
        foreach (int d in shape)
        {
            // Bounded: the product may never exceed what the remaining bytes can hold.
            if (d != 0 && count > data.Length / size / d) throw Bad($"shape ({string.Join(", ", shape)}) needs more data than the {data.Length} bytes present (truncated?)");
            count *= d;
        }
        if (count * size != data.Length) throw Bad($"shape ({string.Join(", ", shape)}) of {descr} needs {count * size} data bytes, found {data.Length}");

        var values = new float[count];
        switch (dtype)
        {
            case NpyDType.Float32: MemoryMarshal.Cast<byte, float>(data).CopyTo(values); break;
            case NpyDType.Float16: TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(data), values); break;
            default: for (int i = 0; i < values.Length; i++) values[i] = data[i]; break;
        }
        return new NpyArray(dtype, shape, values);
    }

    public static void Write(string path, ReadOnlySpan<int> shape, ReadOnlySpan<float> values, NpyDType dtype = NpyDType.Float32)
        => File.WriteAllBytes(path, Encode(shape, values, dtype));

    /// <summary>Encodes a C-order array; uint8 accepts only integral values 0..255, so nothing is silently rounded.</summary>
    public static byte[] Encode(ReadOnlySpan<int> shape, ReadOnlySpan<float> values, NpyDType dtype = NpyDType.Float32)
    {
        long count = 1;
        foreach (int d in shape)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(d, nameof(shape));
            count *= d;
        }
        if (count != values.Length) throw new ArgumentException($"shape holds {count} values, found {values.Length}", nameof(values));

        string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape.ToArray());
        string descr = dtype switch { NpyDType.Float32 => "<f4", NpyDType.Float16 => "<f2", NpyDType.UInt8 => "|u1", _ => throw new ArgumentOutOfRangeException(nameof(dtype)) };
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}";
        bool v2 = dict.Length + 11 > ushort.MaxValue;
        int prefix = v2 ? 12 : 10;
        // numpy pads the header with spaces and ends it with '\n' so that the data starts 64-byte aligned.
        int headerLength = (prefix + dict.Length + 1 + 63) / 64 * 64 - prefix;
        int size = ElementSize(dtype);

        var file = new byte[prefix + headerLength + count * size];
        Magic.CopyTo(file);
        file[6] = (byte)(v2 ? 2 : 1);
        if (v2) BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(8), (uint)headerLength);
        else BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(8), (ushort)headerLength);
        var header = file.AsSpan(prefix, headerLength);
        header.Fill((byte)' ');
        Encoding.Latin1.GetBytes(dict, header);
        header[^1] = (byte)'\n';

        var data = file.AsSpan(prefix + headerLength);
        switch (dtype)
        {
            case NpyDType.Float32: MemoryMarshal.AsBytes(values).CopyTo(data); break;
            case NpyDType.Float16: TensorPrimitives.ConvertToHalf(values, MemoryMarshal.Cast<byte, Half>(data)); break;
            default:
                for (int i = 0; i < values.Length; i++)
                {
                    float v = values[i];
                    if (!(v >= 0 && v <= 255 && v == MathF.Floor(v))) throw new ArgumentException($"value {v} at index {i} is not a uint8", nameof(values));
                    data[i] = (byte)v;
                }
                break;
        }
        return file;
    }

    private static int ElementSize(NpyDType dtype) => dtype switch { NpyDType.Float32 => 4, NpyDType.Float16 => 2, _ => 1 };

    /// <summary>Parses the header's dict literal: string keys; values a quoted string, True/False or a tuple of ints.</summary>
    private static (string Descr, bool FortranOrder, int[] Shape) ParseHeader(string text, string source)
    {
        InvalidDataException Bad(string problem) => new($"{source}: bad .npy header ({problem}): {text.TrimEnd()}");
        int pos = 0;
        void SkipSpace() { while (pos < text.Length && char.IsWhiteSpace(text[pos])) pos++; }
        bool Take(char c) { SkipSpace(); if (pos < text.Length && text[pos] == c) { pos++; return true; } return false; }
        void Expect(char c) { if (!Take(c)) throw Bad($"expected '{c}' at {pos}"); }
        string ReadQuoted()
        {
            SkipSpace();
            if (pos >= text.Length || text[pos] is not ('\'' or '"')) throw Bad($"expected a string at {pos}");
            char quote = text[pos];
            int end = text.IndexOf(quote, pos + 1);
            if (end < 0) throw Bad("unterminated string");
            string s = text[(pos + 1)..end];
            pos = end + 1;
            return s;
        }

        string? descr = null;
        bool? fortran = null;
        int[]? shape = null;
        Expect('{');
        while (!Take('}'))
        {
            string key = ReadQuoted();
            Expect(':');
            SkipSpace();
            switch (key)
            {
                case "descr":
                    if (pos < text.Length && text[pos] == '[') throw Bad("structured dtypes are not supported");
                    descr = ReadQuoted();
                    break;
                case "fortran_order":
                    if (text.AsSpan(pos).StartsWith("True")) { fortran = true; pos += 4; }
                    else if (text.AsSpan(pos).StartsWith("False")) { fortran = false; pos += 5; }
                    else throw Bad("fortran_order is neither True nor False");
                    break;
                case "shape":
                    Expect('(');
                    var dims = new List<int>();
                    while (!Take(')'))
                    {
                        SkipSpace();
                        int start = pos;
                        while (pos < text.Length && char.IsAsciiDigit(text[pos])) pos++;
                        if (!int.TryParse(text.AsSpan(start, pos - start), NumberStyles.None, CultureInfo.InvariantCulture, out int d))
                            throw Bad($"expected a dimension at {start}");
                        dims.Add(d);
                        if (!Take(',')) { Expect(')'); break; }
                    }
                    shape = [.. dims];
                    break;
                default: throw Bad($"unknown key '{key}'");
            }
            if (!Take(',')) { Expect('}'); break; }
        }
        if (descr is null || fortran is null || shape is null) throw Bad("descr, fortran_order or shape missing");
        return (descr, fortran.Value, shape);
    }
}
