using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NanoPose.Evaluation;
using NanoPose.ImageSharp;
using NanoPose.Pipelines.TopDown;

namespace NanoPose.Cli.Serve;

/// <summary>
/// <c>nanopose serve</c>: pose estimation over HTTP (Kestrel, minimal APIs; NativeAOT-safe: no reflection, the
/// JSON source-generated). <c>POST /v1/pose</c> takes an image (or raw pixels, see <see cref="PoseRequest"/>) and
/// answers the people in it as a COCO results array, what <c>predict --json</c> writes; <c>GET /healthz</c> answers
/// 200 while the service runs.
/// <para>
/// Limits: a body over <see cref="ServeOptions.MaxBodyBytes"/> gets 413; when <see cref="ServeOptions.Workers"/>
/// requests are being estimated and <see cref="ServeOptions.Queue"/> more are waiting, the next gets 503 with
/// Retry-After; a request still reading its body after <see cref="ServeOptions.Timeout"/> gets 408, one still waiting
/// or being estimated gets 504; a client that goes away stops its request's decoding and estimation. Every refusal is
/// JSON <c>{"error": "…"}</c> with one line (for a bad image, the one <c>predict</c> prints); never a stack trace.
/// </para>
/// <para>
/// One estimator per flip-and-decoding choice (made when first asked for), shared by every request: each concurrent
/// call runs on an estimation instance of its own (see <see cref="PoseEstimator"/>), so at most
/// <see cref="ServeOptions.Workers"/> instances per estimator. One person detector, shared the same way.
/// </para>
/// </summary>
internal sealed class PoseService : IAsyncDisposable
{
    private readonly ServeOptions _options;
    private readonly WebApplication _app;
    private readonly PersonDetector? _detector;
    private readonly ConcurrentDictionary<(bool Flip, HeatmapDecoding Decoding), Lazy<PoseEstimator>> _estimators = new();
    private readonly ImageFileDecoder _decoder = new();
    private readonly SemaphoreSlim _workers;
    private int _admitted;

    private PoseService(ServeOptions options, WebApplication app, PersonDetector? detector)
    {
        (_options, _app, _detector) = (options, app, detector);
        _workers = new SemaphoreSlim(options.Workers, options.Workers);
    }

    /// <summary>Where the service listens (with the port the system chose when <see cref="ServeOptions.Port"/> is 0).</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>What the service did so far, by outcome.</summary>
    public ServiceCounters Counters { get; } = new();

    /// <summary>Requests admitted and not yet answered: being read, waiting for a worker, or estimated.</summary>
    public int InFlight => Volatile.Read(ref _admitted);

    /// <summary>Loads the model and detector, starts listening, and returns once requests are taken. A bad model or
    /// an address in use throws before anything is served.</summary>
    public static async Task<PoseService> StartAsync(ServeOptions options, CancellationToken cancel = default)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();   // standard output is the command's: the address line only
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(options.Host, options.Port);
            kestrel.Limits.MaxRequestBodySize = options.MaxBodyBytes;
            kestrel.Limits.RequestHeadersTimeout = options.Timeout;
        });
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(10));
        var app = builder.Build();

        var detector = options.Detector();
        var service = new PoseService(options, app, detector);
        try
        {
            _ = service.Estimator(options.Estimation.FlipTest, options.Estimation.Decoding);   // a bad model fails here, before listening
            app.MapPost("/v1/pose", service.PoseAsync);
            app.MapGet("/healthz", service.HealthAsync);
            await app.StartAsync(cancel);
            string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            service.Address = new Uri(address);
            return service;
        }
        catch
        {
            await service.DisposeAsync();
            throw;
        }
    }

    /// <summary>Serves until <paramref name="cancel"/> fires (Ctrl+C) or the host is told to stop (SIGTERM), then
    /// finishes the requests in flight and stops. <paramref name="log"/> gets the address line once listening.</summary>
    public static async Task RunAsync(ServeOptions options, TextWriter log, CancellationToken cancel)
    {
        await using var service = await StartAsync(options, cancel);
        log.WriteLine($"nanopose serve: listening on {service.Address} ({options.Workers} worker{(options.Workers == 1 ? "" : "s")}, " +
            $"queue {options.Queue}, body up to {options.MaxBodyBytes / 1e6:0.#} MB, timeout {options.Timeout.TotalSeconds:0} s); Ctrl+C stops");
        log.Flush();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel, service._app.Lifetime.ApplicationStopping);
        try { await Task.Delay(Timeout.Infinite, stop.Token); }
        catch (OperationCanceledException) { }
    }

    public async ValueTask DisposeAsync()
    {
        try { await _app.StopAsync(); }   // waits for the requests in flight (up to the shutdown timeout)
        finally
        {
            await _app.DisposeAsync();
            foreach (var estimator in _estimators.Values.Where(e => e.IsValueCreated)) estimator.Value.Dispose();
            _detector?.Dispose();   // after the estimators that use it
            _workers.Dispose();
        }
    }

    private PoseEstimator Estimator(bool flip, HeatmapDecoding decoding) => _estimators.GetOrAdd((flip, decoding), key =>
        new Lazy<PoseEstimator>(() => PoseEstimator.Load(_options.Model,
            _options.Estimation with { FlipTest = key.Flip, Decoding = key.Decoding, Threads = 1 }, _detector))).Value;

    private Task HealthAsync(HttpContext context) => Respond(context, StatusCodes.Status200OK,
        new HealthJson("ok", InFlight, _options.Workers, _options.Queue), ServeJsonContext.Default.HealthJson);

    private async Task PoseAsync(HttpContext context)
    {
        // Admission: the workers' requests plus the queue; the one after gets 503 before its body is read.
        if (Interlocked.Increment(ref _admitted) > _options.Workers + _options.Queue)
        {
            Interlocked.Decrement(ref _admitted);
            Counters.Count(ref Counters.Busy);
            context.Response.Headers.RetryAfter = "1";
            await RespondError(context, StatusCodes.Status503ServiceUnavailable,
                $"busy: {_options.Workers} requests are being estimated and {_options.Queue} are waiting; retry later");
            return;
        }
        using var timeout = new CancellationTokenSource(_options.Timeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, context.RequestAborted);
        bool readingBody = true;
        try
        {
            var request = PoseRequest.Read(context.Request, _options.Estimation);
            byte[] body = await ReadBodyAsync(context.Request, linked.Token);
            readingBody = false;
            request.CheckRawLength(body.Length);
            await _workers.WaitAsync(linked.Token);
            byte[] json;
            try
            {
                // A thread of its own: estimation is seconds of CPU at worst, and must not hold a pool thread Kestrel needs.
                json = await Task.Factory.StartNew(() => Estimate(request, body, linked.Token), linked.Token,
                    TaskCreationOptions.LongRunning, TaskScheduler.Default);
            }
            finally
            {
                _workers.Release();
            }
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = json.Length;
            await context.Response.Body.WriteAsync(json, context.RequestAborted);
            Counters.Count(ref Counters.Answered);
        }
        catch (Exception) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away (mid-body, waiting, or mid-estimate): nothing to answer; the work stopped with the token.
            Counters.Count(ref Counters.Canceled);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            Counters.Count(ref Counters.TimedOut);
            await RespondError(context, readingBody ? StatusCodes.Status408RequestTimeout : StatusCodes.Status504GatewayTimeout, readingBody
                ? $"the request body did not arrive within {_options.Timeout.TotalSeconds:0} s"
                : $"the estimate did not finish within {_options.Timeout.TotalSeconds:0} s of the request");
        }
        catch (RequestException e)
        {
            Counters.Count(ref Counters.Refused);
            await RespondError(context, e.StatusCode, e.Message);
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel's own refusals while the body is read: over MaxRequestBodySize (413), too slow a client (408),
            // a body cut short (400).
            Counters.Count(ref Counters.Refused);
            await RespondError(context, e.StatusCode, e.StatusCode == StatusCodes.Status413PayloadTooLarge ? TooLarge() : $"the request body could not be read: {e.Message}");
        }
        catch (Exception e) when (CommandLine.IsInputProblem(e))
        {
            Counters.Count(ref Counters.Refused);
            await RespondError(context, StatusCodes.Status400BadRequest, e.Message);
        }
        catch (Exception e)
        {
            Counters.Count(ref Counters.Failed);
            await RespondError(context, StatusCodes.Status500InternalServerError, $"internal error ({e.GetType().Name}): {e.Message}");
        }
        finally
        {
            Interlocked.Decrement(ref _admitted);
        }
    }

    /// <summary>The body, whole: refused before reading when its declared length is over the limit, and as soon as it
    /// passes the limit when it has none (chunked).</summary>
    private async Task<byte[]> ReadBodyAsync(HttpRequest request, CancellationToken cancel)
    {
        long limit = _options.MaxBodyBytes;
        if (request.ContentLength > limit) throw new RequestException(StatusCodes.Status413PayloadTooLarge, TooLarge());
        using var buffer = new MemoryStream(request.ContentLength is { } length ? (int)length : 64 * 1024);
        var chunk = new byte[64 * 1024];
        for (int read; (read = await request.Body.ReadAsync(chunk, cancel)) > 0;)
        {
            if (buffer.Length + read > limit) throw new RequestException(StatusCodes.Status413PayloadTooLarge, TooLarge());
            buffer.Write(chunk, 0, read);
        }
        if (buffer.Length == 0)
            throw new RequestException(StatusCodes.Status400BadRequest, "the request body is empty: send a JPEG, PNG or BMP image, or raw pixels with ?raw=WxH");
        return buffer.Length == buffer.Capacity ? buffer.GetBuffer() : buffer.ToArray();
    }

    private string TooLarge() => $"the request body is over {_options.MaxBodyBytes} bytes, the most this service takes (--max-body)";

    /// <summary>Decodes and estimates on a worker's thread, and writes the people as <c>predict --json</c> does.</summary>
    private byte[] Estimate(PoseRequest request, byte[] body, CancellationToken cancel)
    {
        var (pixels, width, height, stride, format) = (body, 0, 0, 0, PixelFormat.Rgb24);
        if (request.Raw is { } raw) (width, height, stride, format) = (raw.Width, raw.Height, raw.Width * 3, raw.Format);
        else
        {
            var image = _decoder.Decode(new MemoryStream(body, writable: false), request.Source, cancel);
            (pixels, width, height, stride) = (image.Pixels, image.Width, image.Height, image.Stride);
        }
        var estimator = Estimator(request.FlipTest, request.Decoding);
        var boxes = request.Boxes;
        if (boxes is null && request.DetectionThreshold is { } threshold && estimator.IsTopDown && _detector is not null)
        {
            // The detector's boxes come best first, so those at the request's threshold are what a detector set to it finds.
            if (threshold < _detector.Options.ScoreThreshold)
                throw new RequestException(StatusCodes.Status400BadRequest,
                    $"det_threshold must be from {_detector.Options.ScoreThreshold} (this service's --det-threshold) to 1, not {threshold}");
            boxes = [.. _detector.Detect(pixels, width, height, stride, format, cancel).Where(box => box.Score >= threshold)];
        }
        IReadOnlyList<EstimatedPerson> people;
        try
        {
            people = estimator.Estimate(pixels, width, height, stride, format, boxes, cancel);
        }
        catch (ArgumentException e) when (e.ParamName?.StartsWith("boxes", StringComparison.Ordinal) == true)
        {
            throw new RequestException(StatusCodes.Status400BadRequest, $"boxes: a box of {request.Source}: {e.Message}");
        }
        // CocoJson refuses a non-finite value (a model whose weights overflow) with an ArgumentException naming it.
        var detections = people.Select(person => PoseCommand.ToDetection(request.ImageId, person) with { FileName = request.FileName });
        using var json = new MemoryStream();
        CocoJson.WriteDetections(json, detections);
        return json.ToArray();
    }

    private static Task RespondError(HttpContext context, int statusCode, string message)
    {
        if (context.Response.HasStarted || context.RequestAborted.IsCancellationRequested) return Task.CompletedTask;
        // Kestrel would otherwise keep reading (and discarding) the rest of a body refused before it was read.
        context.Response.Headers.Connection = "close";
        return Respond(context, statusCode, new ErrorJson(message), ServeJsonContext.Default.ErrorJson);
    }

    private static async Task Respond<T>(HttpContext context, int statusCode, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "application/json";
        // Quotes and apostrophes in messages as they are (the default encoder writes \u0027 for '); JSON's own escapes stay.
        using var buffer = new MemoryStream();
        using (var writer = new System.Text.Json.Utf8JsonWriter(buffer, new System.Text.Json.JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            System.Text.Json.JsonSerializer.Serialize(writer, value, type);
        byte[] json = buffer.ToArray();
        context.Response.ContentLength = json.Length;
        try { await context.Response.Body.WriteAsync(json, context.RequestAborted); }
        catch (Exception) when (context.RequestAborted.IsCancellationRequested) { }   // the client left before the answer
    }
}

/// <summary>Requests by outcome since the service started (read by tests, and by the load test's closing note).</summary>
internal sealed class ServiceCounters
{
    public long Answered, Refused, Busy, TimedOut, Canceled, Failed;

    public void Count(ref long counter) => Interlocked.Increment(ref counter);

    public override string ToString() =>
        $"answered {Answered}, refused {Refused}, busy {Busy}, timed out {TimedOut}, canceled {Canceled}, failed {Failed}";
}
