using System.Text.Json;

namespace NanoPose.Evaluation;

/// <summary>
/// Streams detections in COCO results format as JSON lines: one person per line, each line a complete JSON
/// object, flushed to the stream as it is written (read back with <see cref="CocoJson.ReadDetectionsJsonLines"/>).
/// Not thread-safe.
/// </summary>
public sealed class CocoJsonLinesWriter(Stream stream, bool leaveOpen = false) : IDisposable
{
    private readonly Utf8JsonWriter _writer = new(stream);

    public void Write(CocoKeypointDetection detection)
    {
        JsonSerializer.Serialize(_writer, CocoJson.ToJson(detection), CocoJsonContext.Default.DetectionJson);
        _writer.Flush();
        stream.WriteByte((byte)'\n');
        _writer.Reset(); // a Utf8JsonWriter holds one top-level value; each line starts a new one
    }

    public void Dispose()
    {
        _writer.Dispose();
        if (leaveOpen) stream.Flush();
        else stream.Dispose();
    }
}
