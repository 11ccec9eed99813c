using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using NanoPose.TestSupport;
using NanoPose.Weights;

namespace NanoPose.Cli.Tests;

/// <summary>Runs alone: each case's time bound should not depend on what else the two cores are doing.</summary>
[CollectionDefinition(nameof(MemoryCeilingHostileTests), DisableParallelization = true)]
public sealed class MemoryCeilingCollection;

/// <summary>
/// The memory ceiling the README states: no input file of S bytes makes any command use more than
/// <see cref="BaseMegabytes"/> MB + <see cref="BytesPerInputByte"/>·S + <see cref="BytesPerImagePixel"/>·P resident,
/// P being the pixels of the largest image decoded (the decoder refuses more than 50 megapixels). Each case runs the built command
/// (<c>dotnet nanopose.dll</c> or <c>nanopose-weights.dll</c>) as a child process on hostile files generated here
/// (seeded, written to a temporary folder) and measures its peak resident memory (<see cref="ChildProcessRun"/>);
/// it must also exit as expected (2 for bad input, 0 for a valid file that is merely large or odd), not crash,
/// within <see cref="TimeLimit"/>. S is the total size of the
/// files the command is given (model included). The first case is the normal run that N is measured from.
/// </summary>
[Collection(nameof(MemoryCeilingHostileTests))]
public sealed class MemoryCeilingHostileTests : IClassFixture<MemoryCeilingHostileTests.HostileFiles>
{
    /// <summary>N: <c>nanopose predict</c> of the sample photo with the built-in detector and model peaks at 87.5 MB
    /// here (the JIT build, case normal-predict); N is about twice that, for JIT, GC and instruction-set differences.</summary>
    public const int BaseMegabytes = 192;

    /// <summary>k: a command may hold a few copies of what it reads (the file's bytes, then its contents widened, e.g.
    /// fp16 weights to fp32) but nothing that grows faster than the input.</summary>
    public const int BytesPerInputByte = 8;

    /// <summary>A decoded image costs memory by its pixels, not its file size (a 7000×7000 PNG of one grey compresses
    /// to a few kilobytes): ImageSharp's 4-byte pixels, NanoPose's 3-byte copy, and the detector's resize. Measured
    /// 5.6 bytes per pixel over the normal run at 49 MP.</summary>
    public const int BytesPerImagePixel = 8;

    /// <summary>Every case is refused (or run, for the normal one) within this, and a child still running then is
    /// stopped. The normal run takes 2–7 s here (mostly the JIT; the machine shared with builds); the scalar leg's
    /// kernels are ~5–10× slower, but a refusal should come before any network runs.</summary>
    private static readonly TimeSpan TimeLimit = TimeSpan.FromSeconds(30);

    /// <summary>A child over this is stopped at once (it has failed the ceiling many times over): a memory bomb must
    /// not take the machine down while the bug is open.</summary>
    private const long MemoryCap = 2L << 30;

    public static long CeilingBytes(long inputBytes, long imagePixels = 0) =>
        BaseMegabytes * 1048576L + BytesPerInputByte * inputBytes + BytesPerImagePixel * imagePixels;

    /// <summary>A case: its name, the command (dll), its arguments (<c>@name</c>: a generated file, which the command
    /// reads), the exit code expected, and the pixels of the image it decodes when that is large.</summary>
    public sealed record HostileCase(string Name, string Command, string[] Args, int ExpectedExit, long ImagePixels = 0)
    {
        public IEnumerable<string> Inputs => Args.Where(a => a.StartsWith('@')).Select(a => a[1..]);
    }

    public static TheoryData<string> CaseNames() => [.. HostileFiles.Cases.Select(c => c.Name)];

    private readonly HostileFiles _files;

    public MemoryCeilingHostileTests(HostileFiles files) => _files = files;

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void StaysUnderTheCeilingAndExitsAsExpected(string name)
    {
        var @case = HostileFiles.Cases.Single(c => c.Name == name);
        string[] inputs = [.. @case.Inputs.Select(_files.Path)];
        string[] args = [.. @case.Args.Select(a => a.StartsWith('@') ? _files.Path(a[1..]) : a)];
        long inputBytes = inputs.Sum(f => new FileInfo(f).Length);
        long ceiling = CeilingBytes(inputBytes, @case.ImagePixels);
        var run = ChildProcessRun.Start(@case.Command, args, TimeLimit, MemoryCap);

        int index = HostileFiles.Cases.IndexOf(@case) + 1;
        TestContext.Current.TestOutputHelper?.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"case {index}/{HostileFiles.Cases.Count} {name}: {Path.GetFileNameWithoutExtension(@case.Command)} {@case.Args[0]}, S {inputBytes:N0} B, " +
            $"peak {run.PeakBytes / 1048576.0:F1} MB (ceiling {ceiling / 1048576.0:F1}), {run.Elapsed.TotalSeconds:F2} s, " +
            $"exit {run.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? run.StoppedBecause}"));
        string firstError = run.Error.Split('\n')[0];
        Assert.True(run.StoppedBecause is null, $"{name}: {run.StoppedBecause}");
        Assert.True(run.ExitCode == @case.ExpectedExit, $"{name}: exit {run.ExitCode}, expected {@case.ExpectedExit}: {firstError}");
        Assert.DoesNotContain("   at ", run.Error);   // no stack trace
        Assert.True(run.PeakBytes <= ceiling, $"{name}: peak {run.PeakBytes / 1048576.0:F1} MB over the ceiling {ceiling / 1048576.0:F1} MB");
    }

    /// <summary>The hostile files, written once for the class into a temporary folder.</summary>
    public sealed class HostileFiles : IDisposable
    {
        private readonly string _folder = Directory.CreateTempSubdirectory("nanopose-ceiling-").FullName;

        public static readonly List<HostileCase> Cases =
        [
            new("normal-predict", "nanopose.dll", ["predict", "@sample.jpg"], 0),
            new("png-text-chunks", "nanopose.dll", ["predict", "@text-chunks.png"], 0),   // valid: the text is never inflated
            new("png-huge-header", "nanopose.dll", ["predict", "@huge-header.png"], 2),          // 60000×60000: over the decoder's 50 MP limit
            // A valid 7000×7000 PNG of one grey: a few kilobytes that decode to 49 megapixels, just under the decoder's limit.
            new("png-49mp", "nanopose.dll", ["predict", "@49mp.png"], 0, ImagePixels: 7_000L * 7_000),
            new("jpeg-many-scans", "nanopose.dll", ["predict", "@many-scans.jpg"], 2),
            new("npw-many-properties", "nanopose.dll", ["info", "--model", "@many-properties.npw"], 2),
            // Valid: the bottom-up input is scaled to at most 2^19 pixels (issue 15, item 10) instead of growing with the aspect.
            new("bottom-up-panorama", "nanopose.dll", ["predict", "--model", "@bottom-up.npw", "@panorama.png"], 0, ImagePixels: 20_000L * 500),
            new("pickle-deep-nesting", "nanopose-weights.dll", ["inspect", "@deep-nesting.pth"], 2),
            new("pickle-deflate-bomb", "nanopose-weights.dll", ["inspect", "@deflate-bomb.pth"], 2),
        ];

        private readonly Dictionary<string, Lazy<string>> _written;

        public HostileFiles()
        {
            var makers = new Dictionary<string, Func<byte[]>>
            {
                ["sample.jpg"] = () => File.ReadAllBytes(System.IO.Path.Combine(SharedData.RepositoryRoot, "samples", "000000000785.jpg")),
                ["text-chunks.png"] = TextChunkPng,
                ["huge-header.png"] = () => Png(60_000, 60_000, rows: 1, []),
                ["49mp.png"] = () => Png(7_000, 7_000, rows: 7_000, []),
                ["many-scans.jpg"] = ManyScanJpeg,
                ["many-properties.npw"] = ManyPropertyNpw,
                ["bottom-up.npw"] = PipelineSoakTests.SeededBottomUp,   // the model for the 20000×500 panorama (issue 15, item 10)
                ["panorama.png"] = () => Png(20_000, 500, rows: 500, []),
                ["deep-nesting.pth"] = DeepNestingCheckpoint,
                ["deflate-bomb.pth"] = DeflateBombCheckpoint,
            };
            _written = makers.ToDictionary(m => m.Key, m => new Lazy<string>(() =>
            {
                string path = System.IO.Path.Combine(_folder, m.Key);
                File.WriteAllBytes(path, m.Value());
                return path;
            }));
        }

        /// <summary>The generated file's path (written on first use: a case run alone writes only its own).</summary>
        public string Path(string name) => _written[name].Value;

        public void Dispose() => Directory.Delete(_folder, recursive: true);

        /// <summary>
        /// A 64×64 PNG carrying 8 compressed text chunks (4 zTXt, 4 iTXt), each 64 MB of text deflated to ~64 KB: ~0.5 MB
        /// that inflates to 512 MB of metadata when a decoder reads it (issue 15, item 9).
        /// </summary>
        private static byte[] TextChunkPng()
        {
            byte[] text = Deflate(Enumerable.Repeat((byte)'a', 64 << 20).ToArray());
            var chunks = new List<(string, byte[])>();
            for (int i = 0; i < 4; i++)
            {
                chunks.Add(("zTXt", [.. Encoding.Latin1.GetBytes($"Comment{i}"), 0, 0, .. text]));              // keyword, NUL, method 0
                chunks.Add(("iTXt", [.. Encoding.Latin1.GetBytes($"Description{i}"), 0, 1, 0, 0, 0, .. text]));  // compressed, method 0, no language
            }
            return Png(64, 64, rows: 64, chunks);
        }

        /// <summary>An 8-bit RGB PNG of <paramref name="width"/> × <paramref name="height"/> whose image data holds only
        /// the first <paramref name="rows"/> rows (grey), with <paramref name="extra"/> chunks before it.</summary>
        private static byte[] Png(int width, int height, int rows, List<(string Type, byte[] Data)> extra)
        {
            var png = new MemoryStream();
            png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10]);
            var header = new byte[13];
            BinaryPrimitives.WriteInt32BigEndian(header, width);
            BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
            header[8] = 8;   // bit depth; colour type 2 (RGB), deflate, filter 0, no interlace
            header[9] = 2;
            WriteChunk(png, "IHDR", header);
            foreach (var (type, data) in extra) WriteChunk(png, type, data);
            var row = new byte[1 + 3 * width];
            row.AsSpan(1).Fill(128);
            var pixels = new MemoryStream();
            using (var zlib = new ZLibStream(pixels, CompressionLevel.SmallestSize, leaveOpen: true))
                for (int y = 0; y < rows; y++) zlib.Write(row);   // filter byte 0, then the row
            WriteChunk(png, "IDAT", pixels.ToArray());
            WriteChunk(png, "IEND", []);
            return png.ToArray();
        }

        private static void WriteChunk(Stream png, string type, byte[] data)
        {
            Span<byte> length = stackalloc byte[4];
            BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
            png.Write(length);
            byte[] typeAndData = [.. Encoding.ASCII.GetBytes(type), .. data];
            png.Write(typeAndData);
            Span<byte> crc = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(crc, PngCrc(typeAndData));
            png.Write(crc);
        }

        /// <summary>The CRC-32 of PNG chunks (ISO 3309, reflected 0xEDB88320).</summary>
        private static uint PngCrc(ReadOnlySpan<byte> data)
        {
            uint crc = 0xFFFFFFFF;
            foreach (byte b in data)
            {
                crc ^= b;
                for (int bit = 0; bit < 8; bit++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
            }
            return ~crc;
        }

        private static byte[] Deflate(byte[] data)
        {
            var packed = new MemoryStream();
            using (var zlib = new ZLibStream(packed, CompressionLevel.SmallestSize, leaveOpen: true)) zlib.Write(data);
            return packed.ToArray();
        }

        /// <summary>
        /// A progressive greyscale JPEG of 2048×2048 with 20,000 AC scans (~0.4 MB): each scan's data is four end-of-band
        /// runs of 16,384 blocks, 8 bytes, yet a decoder walks all 65,536 blocks per scan (issue 15, item 9).
        /// </summary>
        private static byte[] ManyScanJpeg()
        {
            const int Side = 2048, Blocks = Side / 8 * (Side / 8), AcScans = 20_000;
            var jpeg = new MemoryStream();
            void Segment(byte marker, params byte[] body)
            {
                jpeg.Write([0xFF, marker, (byte)((body.Length + 2) >> 8), (byte)(body.Length + 2)]);
                jpeg.Write(body);
            }
            jpeg.Write([0xFF, 0xD8]);                                                        // SOI
            Segment(0xDB, [0, .. Enumerable.Repeat((byte)1, 64)]);                           // DQT 0: all ones
            Segment(0xC2, 8, Side >> 8, Side & 0xFF, Side >> 8, Side & 0xFF, 1, 1, 0x11, 0); // SOF2: 8 bit, one component
            byte[] oneCode = [1, .. new byte[15]];                                           // one code of length 1: '0'
            Segment(0xC4, [0x00, .. oneCode, 0x00, 0x10, .. oneCode, 0xE0]);                 // DC: category 0; AC: EOB run 2^14 + 14 bits
            Segment(0xDA, 1, 1, 0x00, 0, 0, 0x00);                                           // DC first scan
            jpeg.Write(new byte[Blocks / 8]);                                                // one '0' bit per block: DC 0
            for (int scan = 0; scan < AcScans; scan++)
            {
                Segment(0xDA, 1, 1, 0x00, 1, 63, 0x00);                                      // AC first scan, band 1..63
                jpeg.Write([0, 0, 0, 0, 0, 0, 0, 0x0F]);                                     // 4 × ('0' + 14 zero bits), padded with ones
            }
            jpeg.Write([0xFF, 0xD9]);                                                        // EOI
            return jpeg.ToArray();
        }

        /// <summary>A .npw with 100,000 architecture properties and no tensor (~1.8 MB), checksum valid (issue 15,
        /// item 11). Written directly: <see cref="ModelArchitecture.Set(string, long)"/> looks each key up.</summary>
        private static byte[] ManyPropertyNpw()
        {
            const int Properties = 100_000;
            var metadata = new MemoryStream();
            using (var w = new BinaryWriter(metadata, Encoding.UTF8, leaveOpen: true))
            {
                void String(string s) { w.Write((uint)Encoding.UTF8.GetByteCount(s)); w.Write(Encoding.UTF8.GetBytes(s)); }
                String("litehrnet");
                String("litehrnet-18");
                w.Write((uint)Properties);
                for (int i = 0; i < Properties; i++)
                {
                    String($"property_{i:D6}");
                    w.Write((byte)1);   // int
                    w.Write((long)i);
                }
            }
            long dataOffset = (64 + metadata.Length + 63) / 64 * 64;
            var file = new byte[dataOffset + 4];
            byte[] magic = [0x89, (byte)'N', (byte)'P', (byte)'W', 13, 10, 0x1A, 10];
            magic.CopyTo(file, 0);
            BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(8), 1);                      // version
            BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(16), (ulong)file.Length);
            BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(24), 64);                    // metadata offset
            BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(32), (ulong)metadata.Length);
            BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(40), (ulong)dataOffset);     // no data, no tensor
            metadata.ToArray().CopyTo(file, 64);
            BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan((int)dataOffset), Crc32C.Compute(file.AsSpan(0, (int)dataOffset)));
            return file;
        }

        /// <summary>A torch zip checkpoint whose data.pkl is a dict keyed by a tuple nested 50,000 deep (~50 KB): the
        /// error naming the bad key formats it (issue 15, item 4).</summary>
        private static byte[] DeepNestingCheckpoint()
        {
            // PROTO 2, EMPTY_DICT, EMPTY_TUPLE, TUPLE1 × 50,000, NONE, SETITEM, STOP
            byte[] pickle = [0x80, 2, (byte)'}', (byte)')', .. Enumerable.Repeat((byte)0x85, 50_000), (byte)'N', (byte)'s', (byte)'.'];
            return Zip(("archive/data.pkl", pickle, CompressionLevel.NoCompression));
        }

        /// <summary>
        /// A torch zip checkpoint whose deflated data.pkl pushes 20 million empty lists (~20 KB deflated), beside 256 KB
        /// of stored seeded noise so that the archive stays within the loader's 100× inflation limit (issue 15, item 5).
        /// </summary>
        private static byte[] DeflateBombCheckpoint()
        {
            byte[] pickle = [0x80, 2, .. Enumerable.Repeat((byte)']', 20_000_000), (byte)'.'];          // PROTO 2, EMPTY_LIST…, STOP
            var noise = new byte[256 * 1024];
            new Random(15).NextBytes(noise);
            return Zip(("archive/data.pkl", pickle, CompressionLevel.SmallestSize), ("archive/padding", noise, CompressionLevel.NoCompression));
        }

        private static byte[] Zip(params (string Name, byte[] Data, CompressionLevel Level)[] entries)
        {
            var archive = new MemoryStream();
            using (var zip = new ZipArchive(archive, ZipArchiveMode.Create, leaveOpen: true))
                foreach (var (name, data, level) in entries)
                {
                    using var stream = zip.CreateEntry(name, level).Open();
                    stream.Write(data);
                }
            return archive.ToArray();
        }
    }
}
