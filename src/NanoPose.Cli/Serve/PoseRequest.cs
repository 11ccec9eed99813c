using System.Globalization;
using Microsoft.AspNetCore.Http;
using NanoPose.Pipelines.TopDown;

namespace NanoPose.Cli.Serve;

/// <summary>A request the service refuses, with its status code and the one-line message its JSON body carries.</summary>
internal sealed class RequestException(int statusCode, string message) : Exception(message)
{
    public int StatusCode { get; } = statusCode;
}

/// <summary>
/// What a <c>POST /v1/pose</c> asks for, read from its query string and content type:
/// <list type="bullet">
/// <item><c>raw=WxH</c> and <c>format=rgb24|bgr24</c> (default rgb24): the body is W·H·3 bytes of pixels, row after
/// row; without <c>raw</c> the body is a JPEG, PNG or BMP file;</item>
/// <item><c>boxes=x,y,w,h[,score];…</c>: person boxes for top-down models (COCO x, y, width, height in pixels; score
/// 1 when left out), as <c>predict --boxes</c> gives them; <c>boxes=</c> (empty) means no people; without it the
/// detector finds them;</item>
/// <item><c>flip=true|false</c>, <c>decode=dark|default</c>: as <c>predict --flip</c> and <c>--decode</c>;</item>
/// <item><c>det_threshold=T</c>: as <c>predict --det-threshold</c>, from the service's own threshold up to 1 (the
/// detector keeps no box below the service's);</item>
/// <item><c>image_id=N</c> (default 1) and <c>file_name=…</c> (default none): the COCO fields of each person in the
/// answer, so that it is byte for byte what <c>predict --json</c> writes for that file.</item>
/// </list>
/// Anything else in the query, a parameter given twice, or a value that does not parse is refused (400) by name.
/// </summary>
internal sealed record PoseRequest(
    (int Width, int Height, PixelFormat Format)? Raw, IReadOnlyList<PersonBox>? Boxes, bool FlipTest, HeatmapDecoding Decoding,
    float? DetectionThreshold, long ImageId, string? FileName)
{
    private static readonly string[] Known = ["raw", "format", "boxes", "flip", "decode", "det_threshold", "image_id", "file_name"];

    /// <summary>Content types an image or pixel body may be sent as (none at all is taken too).</summary>
    private static readonly string[] BodyTypes = ["application/octet-stream", "image/jpeg", "image/png", "image/bmp", "image/x-ms-bmp"];

    /// <summary>What error messages call the image: its file name when the client gave one.</summary>
    public string Source => FileName ?? "request body";

    public static PoseRequest Read(HttpRequest request, PoseEstimatorOptions defaults)
    {
        if (request.ContentType is { } contentType)
        {
            string mediaType = contentType.Split(';')[0].Trim();
            if (!BodyTypes.Contains(mediaType, StringComparer.OrdinalIgnoreCase))
                throw new RequestException(StatusCodes.Status415UnsupportedMediaType,
                    $"content type '{contentType}' is not an image: send the image file's bytes as {string.Join(", ", BodyTypes[1..4])} or application/octet-stream");
        }
        foreach (var (name, values) in request.Query)
        {
            if (!Known.Contains(name)) throw Bad($"unknown query parameter '{name}' (known: {string.Join(", ", Known)})");
            if (values.Count > 1) throw Bad($"query parameter '{name}' is given {values.Count} times");
        }
        string? Get(string name) => request.Query.TryGetValue(name, out var values) ? values[0] ?? "" : null;

        string? format = Get("format");
        (int, int, PixelFormat)? raw = Get("raw") is { } size ? RawSize(size, format) : null;
        if (raw is null && format is not null) throw Bad("format applies to raw pixels: give raw=WxH too");
        return new PoseRequest(raw, Get("boxes") is { } boxes ? ParseBoxes(boxes) : null,
            Get("flip") is { } flip ? Flag("flip", flip) : defaults.FlipTest,
            Get("decode") switch
            {
                null => defaults.Decoding,
                "dark" => HeatmapDecoding.Dark,
                "default" => HeatmapDecoding.Default,
                var other => throw Bad($"decode must be dark or default, not '{other}'"),
            },
            Get("det_threshold") is { } threshold ? Threshold(threshold) : null,
            Get("image_id") is { } id ? (long.TryParse(id, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value) ? value
                : throw Bad($"image_id must be a whole number, not '{id}'")) : 1,
            Get("file_name"));
    }

    /// <summary>The pixels of a raw body, after checking it holds exactly one image of the declared size.</summary>
    public void CheckRawLength(int bodyLength)
    {
        if (Raw is not { } raw) return;
        long expected = 3L * raw.Width * raw.Height;
        if (bodyLength != expected)
            throw Bad($"raw={raw.Width}x{raw.Height} needs {expected} bytes ({raw.Width}×{raw.Height}×3), the body has {bodyLength}");
    }

    private static (int, int, PixelFormat) RawSize(string text, string? format)
    {
        string[] parts = text.Split('x');
        if (parts.Length != 2 || !TryDimension(parts[0], out int width) || !TryDimension(parts[1], out int height))
            throw Bad($"raw must be <width>x<height> in pixels (e.g. 640x480), not '{text}'");
        if ((long)width * height > ImageSharp.ImageFileDecoder.DefaultMaxPixels)
            throw Bad($"raw={text} is {(long)width * height} pixels, more than the {ImageSharp.ImageFileDecoder.DefaultMaxPixels} an image may have");
        var pixelFormat = format switch
        {
            null or "rgb24" => PixelFormat.Rgb24,
            "bgr24" => PixelFormat.Bgr24,
            _ => throw Bad($"format must be rgb24 or bgr24, not '{format}'"),
        };
        return (width, height, pixelFormat);
    }

    private static float Threshold(string text) =>
        float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) && value is >= 0 and <= 1
            ? value : throw Bad($"det_threshold must be a number from 0 to 1, not '{text}'");

    private static bool TryDimension(string text, out int value) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= 1;

    private static bool Flag(string name, string text) => text switch
    {
        "" or "true" or "1" => true,
        "false" or "0" => false,
        _ => throw Bad($"{name} must be true or false, not '{text}'"),
    };

    /// <summary>At most this many boxes a request: the detector's own most (<c>--max-people</c> goes to 1000).</summary>
    private const int MaxBoxes = 1000;

    private static List<PersonBox> ParseBoxes(string text)
    {
        var boxes = new List<PersonBox>();
        if (text.Length == 0) return boxes;
        string[] items = text.Split(';');
        if (items.Length > MaxBoxes) throw Bad($"boxes has {items.Length} boxes, at most {MaxBoxes} are taken");
        for (int i = 0; i < items.Length; i++)
        {
            string[] values = items[i].Split(',');
            if (values.Length is not (4 or 5))
                throw Bad($"boxes: box {i + 1} has {values.Length} values, expected x,y,w,h or x,y,w,h,score");
            var numbers = new double[values.Length];
            for (int v = 0; v < values.Length; v++)
                if (!double.TryParse(values[v], NumberStyles.Float, CultureInfo.InvariantCulture, out numbers[v]))
                    throw Bad($"boxes: box {i + 1} value {v + 1} is not a number: '{values[v]}'");
            // The estimator checks each box (finite, positive size, overlapping the image) and names it.
            boxes.Add(new PersonBox(numbers[0], numbers[1], numbers[2], numbers[3], values.Length == 5 ? (float)numbers[4] : 1f));
        }
        return boxes;
    }

    private static RequestException Bad(string message) => new(StatusCodes.Status400BadRequest, message);
}
