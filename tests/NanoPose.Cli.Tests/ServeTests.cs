using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using NanoPose.Cli.Serve;
using NanoPose.ImageSharp;
using NanoPose.TestSupport;

namespace NanoPose.Cli.Tests;

/// <summary>
/// <c>nanopose serve</c> (<see cref="PoseService"/>) on a loopback port the system chooses, driven by a real
/// <see cref="HttpClient"/>: the sample photo answers what <c>predict --json</c> writes for it, from its file bytes
/// and from raw RGB or BGR pixels; requests run concurrently; the limits answer their status codes.
/// </summary>
public sealed class ServeTests : IDisposable
{
    /// <summary>The services' request timeout in these tests: 30 s, stretched ×10 in CI's scalar leg, where software
    /// vectors make an estimate of the sample photo take seconds (504s there otherwise).</summary>
    internal static readonly TimeSpan TestTimeout = TestSupport.TimeBounds.ForThisLeg(TimeSpan.FromSeconds(30));

    private readonly string _folder = Directory.CreateTempSubdirectory("nanopose-serve-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    internal static string SamplePath => Path.Combine(SharedData.RepositoryRoot, "samples", "000000000785.jpg");

    internal static ByteArrayContent Body(byte[] bytes, string? contentType = "image/jpeg")
    {
        var content = new ByteArrayContent(bytes);
        if (contentType is not null) content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return content;
    }

    /// <summary>What <c>nanopose predict &lt;image&gt; --json</c> writes, run in process with the extra options.</summary>
    private string Predict(string image, params string[] options)
    {
        string json = Path.Combine(_folder, $"predict-{Guid.NewGuid():N}.json");
        var result = Cli.Run(["predict", image, "--json", json, .. options]);
        Assert.True(result.Code == 0, $"predict exit code {result.Code}: {result.Error}");
        return File.ReadAllText(json);
    }

    private static string Query(string path, string extra = "") =>
        $"/v1/pose?image_id=785&file_name={Uri.EscapeDataString(path)}{extra}";

    [Fact]
    public async Task SamplePhotoAnswersWhatPredictWrites()
    {
        string expected = Predict(SamplePath);
        Assert.Equal(1, JsonDocument.Parse(expected).RootElement.GetArrayLength());   // the skier
        await using var service = await PoseService.StartAsync(new ServeOptions { Port = 0, Timeout = ServeTests.TestTimeout, Workers = 2 }, TestContext.Current.CancellationToken);
        Assert.True(IPAddress.IsLoopback(IPAddress.Parse(service.Address.Host)), service.Address.ToString());
        using var client = new HttpClient { BaseAddress = service.Address };
        var cancel = TestContext.Current.CancellationToken;

        using var response = await client.PostAsync(Query(SamplePath), Body(File.ReadAllBytes(SamplePath)), cancel);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(expected, await response.Content.ReadAsStringAsync(cancel));

        // The same photo as raw pixels, RGB and BGR, gives the same bytes.
        var image = new ImageFileDecoder().Decode(SamplePath, cancel);
        byte[] bgr = (byte[])image.Pixels.Clone();
        for (int i = 0; i < bgr.Length; i += 3) (bgr[i], bgr[i + 2]) = (bgr[i + 2], bgr[i]);
        foreach (var (pixels, format) in new[] { (image.Pixels, "rgb24"), (bgr, "bgr24") })
        {
            using var raw = await client.PostAsync(Query(SamplePath, $"&raw={image.Width}x{image.Height}&format={format}"), Body(pixels, "application/octet-stream"), cancel);
            Assert.Equal(HttpStatusCode.OK, raw.StatusCode);
            Assert.Equal(expected, await raw.Content.ReadAsStringAsync(cancel));
        }
        // A request is counted as answered once its response is written, which the client can see first.
        await ServeHostileTests.WaitFor(() => service.InFlight == 0, "the last answer to be counted");
        Assert.Equal(3, service.Counters.Answered);
    }

    [Fact]
    public async Task OptionsAndBoxesMatchPredictsOptions()
    {
        // --flip --decode default, and a box file holding the box the detector found: predict and the query agree.
        string detected = Predict(SamplePath);
        var box = JsonDocument.Parse(detected).RootElement[0].GetProperty("bbox").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        string boxFile = Path.Combine(_folder, "boxes.json");
        string boxText = string.Join(",", box.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
        File.WriteAllText(boxFile, $$"""[{"image_id":785,"category_id":1,"bbox":[{{boxText}}],"score":0.9}]""");
        string expected = Predict(SamplePath, "--flip", "--decode", "default", "--boxes", boxFile);

        await using var service = await PoseService.StartAsync(new ServeOptions { Port = 0, Timeout = ServeTests.TestTimeout, Workers = 1 }, TestContext.Current.CancellationToken);
        using var client = new HttpClient { BaseAddress = service.Address };
        var cancel = TestContext.Current.CancellationToken;
        using var response = await client.PostAsync(Query(SamplePath, $"&flip=true&decode=default&boxes={boxText},0.9"), Body(File.ReadAllBytes(SamplePath)), cancel);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected, await response.Content.ReadAsStringAsync(cancel));
        Assert.NotEqual(detected, expected);   // the options changed the answer, so the comparison above could fail

        // det_threshold as predict's --det-threshold: the skier's box scores 0.947, so 0.9 keeps him and 0.95 does not.
        foreach (string threshold in new[] { "0.9", "0.95" })
        {
            string predicted = Predict(SamplePath, "--det-threshold", threshold);
            using var thresholded = await client.PostAsync(Query(SamplePath, $"&det_threshold={threshold}"), Body(File.ReadAllBytes(SamplePath)), cancel);
            Assert.Equal(predicted, await thresholded.Content.ReadAsStringAsync(cancel));
            Assert.Equal(threshold == "0.9" ? 1 : 0, JsonDocument.Parse(predicted).RootElement.GetArrayLength());
        }
        using var belowService = await client.PostAsync("/v1/pose?det_threshold=0.3", Body(File.ReadAllBytes(SamplePath)), cancel);
        await AssertError(belowService, HttpStatusCode.BadRequest, "det_threshold must be from 0.5");

        using var none = await client.PostAsync("/v1/pose?boxes=", Body(File.ReadAllBytes(SamplePath)), cancel);
        Assert.Equal("[]", await none.Content.ReadAsStringAsync(cancel));   // no boxes: no people
    }

    [Fact]
    public async Task ConcurrentRequestsAllAnswerTheSame()
    {
        await using var service = await PoseService.StartAsync(new ServeOptions { Port = 0, Timeout = ServeTests.TestTimeout, Workers = 2, Queue = 32 }, TestContext.Current.CancellationToken);
        using var client = new HttpClient { BaseAddress = service.Address };
        var cancel = TestContext.Current.CancellationToken;
        byte[] photo = File.ReadAllBytes(SamplePath);
        // Flip and no flip interleaved: two estimators, each shared by the requests that run at once.
        var answers = await Task.WhenAll(Enumerable.Range(0, 16).Select(async i =>
        {
            using var response = await client.PostAsync($"/v1/pose?flip={i % 2 == 1}".ToLowerInvariant(), Body(photo), cancel);
            return (i % 2, response.StatusCode, Text: await response.Content.ReadAsStringAsync(cancel));
        }));
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        foreach (var group in answers.GroupBy(a => a.Item1))
            Assert.Single(group.Select(a => a.Text).Distinct());
        Assert.NotEqual(answers[0].Text, answers[1].Text);
        // Every request is counted out, moments after its answer has reached the client.
        await ServeHostileTests.WaitFor(() => service.InFlight == 0, "every request to be counted out after its answer", TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task HealthAnswersOk()
    {
        await using var service = await PoseService.StartAsync(new ServeOptions { Port = 0, Timeout = ServeTests.TestTimeout, Workers = 3, Queue = 5 }, TestContext.Current.CancellationToken);
        using var client = new HttpClient { BaseAddress = service.Address };
        using var response = await client.GetAsync("/healthz", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var health = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement;
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.Equal(3, health.GetProperty("workers").GetInt32());
        Assert.Equal(5, health.GetProperty("queue").GetInt32());
    }

    [Fact]
    public async Task OversizedBodiesAnswer413()
    {
        await using var service = await PoseService.StartAsync(new ServeOptions { Port = 0, Timeout = ServeTests.TestTimeout, Workers = 1, MaxBodyBytes = 100_000 }, TestContext.Current.CancellationToken);
        using var client = new HttpClient { BaseAddress = service.Address };
        var cancel = TestContext.Current.CancellationToken;
        byte[] photo = File.ReadAllBytes(SamplePath);   // 133,674 bytes
        // With a Content-Length (refused before reading), and chunked (refused once past the limit).
        using var declared = await client.PostAsync("/v1/pose", Body(photo), cancel);
        await AssertError(declared, HttpStatusCode.RequestEntityTooLarge, "over 100000 bytes");
        var chunked = new StreamContent(new MemoryStream(photo));
        chunked.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/pose") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        using var streamed = await client.SendAsync(request, cancel);
        await AssertError(streamed, HttpStatusCode.RequestEntityTooLarge, "over 100000 bytes");
        // The service still answers a body under the limit.
        using var small = await client.PostAsync("/v1/pose?raw=64x48", Body(new byte[64 * 48 * 3], null), cancel);
        Assert.Equal(HttpStatusCode.OK, small.StatusCode);
    }

    [Fact]
    public async Task FullQueueAnswers503WithRetryAfter()
    {
        await using var service = await PoseService.StartAsync(new ServeOptions { Port = 0, Timeout = ServeTests.TestTimeout, Workers = 1, Queue = 0 }, TestContext.Current.CancellationToken);
        var cancel = TestContext.Current.CancellationToken;
        // One request admitted and still sending its body holds the only place.
        using var slow = await RawHttp.ConnectAsync(service.Address, cancel);
        await slow.SendAsync("POST /v1/pose HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: 1000\r\n\r\nxx", cancel);
        // Wait until the server has admitted it: a request sent before then could take the place first (and the slow
        // one get the 503), which a loaded CI machine once did for ten seconds running.
        await ServeHostileTests.WaitFor(() => service.InFlight > 0, "the slow request to be admitted", TestSupport.TimeBounds.ForThisLeg(TimeSpan.FromSeconds(30)));
        using var client = new HttpClient { BaseAddress = service.Address };
        var busy = await client.PostAsync("/v1/pose", Body(File.ReadAllBytes(SamplePath)), cancel);
        await AssertError(busy, HttpStatusCode.ServiceUnavailable, "busy");
        Assert.Equal(TimeSpan.FromSeconds(1), busy.Headers.RetryAfter?.Delta);
        busy.Dispose();
        slow.Dispose();   // its place frees when the server sees it gone
        HttpResponseMessage? served = null;
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); clock.Elapsed < TestSupport.TimeBounds.ForThisLeg(TimeSpan.FromSeconds(30)) && served?.StatusCode != HttpStatusCode.OK;)
        {
            served?.Dispose();
            served = await client.PostAsync("/v1/pose", Body(File.ReadAllBytes(SamplePath)), cancel);
        }
        Assert.Equal(HttpStatusCode.OK, served!.StatusCode);
        served.Dispose();
    }

    [Fact]
    public async Task ServeCommandListensUntilCanceledAndRefusesBadOptions()
    {
        Cli.AssertRefused(Cli.Run(["serve", "--port", "70000"], TestContext.Current.CancellationToken), "--port");
        Cli.AssertRefused(Cli.Run(["serve", "--threads", "0"], TestContext.Current.CancellationToken), "--threads");
        Cli.AssertRefused(Cli.Run(["serve", "--host", "localhost:80"], TestContext.Current.CancellationToken), "--host");
        Cli.AssertRefused(Cli.Run(["serve", "--decode", "fast"], TestContext.Current.CancellationToken), "--decode");
        Cli.AssertRefused(Cli.Run(["serve", "--host", "192.0.2.1", "--port", "0"], TestContext.Current.CancellationToken), "192.0.2.1");   // TEST-NET-1: no machine has it
        Cli.AssertRefused(Cli.Run(["serve", "--model", Path.Combine(_folder, "missing.npw")], TestContext.Current.CancellationToken), "missing.npw");

        // nanopose serve --port 0: prints the address, serves it, and exits with 0 when canceled (Ctrl+C).
        var output = new StringWriter();
        var synchronized = TextWriter.Synchronized(output);   // written by the command's thread, read here
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var run = Task.Run(() => CommandLine.Run(["serve", "--port", "0", "--threads", "1"], synchronized, TextWriter.Null, cancel: stop.Token), TestContext.Current.CancellationToken);
        string? address = null;
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); address is null && clock.Elapsed < TimeSpan.FromSeconds(30) && !run.IsCompleted; await Task.Delay(20, TestContext.Current.CancellationToken))
        {
            string text;
            lock (synchronized) text = output.ToString();
            var match = System.Text.RegularExpressions.Regex.Match(text, @"listening on (http://127\.0\.0\.1:\d+/)");
            if (match.Success) address = match.Groups[1].Value;
        }
        Assert.True(address is not null, $"no address printed: {output}");
        using (var client = new HttpClient { BaseAddress = new Uri(address) })
        using (var response = await client.PostAsync("/v1/pose", Body(File.ReadAllBytes(SamplePath)), TestContext.Current.CancellationToken))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        stop.Cancel();
        Assert.Equal(0, await run.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
    }

    /// <summary>The status, a JSON body <c>{"error": "…"}</c> of one line holding <paramref name="mention"/>, no stack trace.</summary>
    internal static async Task<string> AssertError(HttpResponseMessage response, HttpStatusCode status, string? mention = null)
    {
        string text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == status, $"status {(int)response.StatusCode}, expected {(int)status}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        string? message = JsonDocument.Parse(text).RootElement.GetProperty("error").GetString();
        Assert.False(string.IsNullOrWhiteSpace(message), text);
        Assert.DoesNotContain('\n', message);
        Assert.DoesNotContain("   at ", text);
        Assert.DoesNotContain("internal error", text);
        if (mention is not null) Assert.Contains(mention, message);
        return message!;
    }
}

/// <summary>A bare HTTP/1.1 connection, for what <see cref="HttpClient"/> will not do: send a body a byte at a time,
/// or go away halfway through one.</summary>
internal sealed class RawHttp : IDisposable
{
    private readonly System.Net.Sockets.TcpClient _tcp;

    private RawHttp(System.Net.Sockets.TcpClient tcp) => _tcp = tcp;

    public static async Task<RawHttp> ConnectAsync(Uri address, CancellationToken cancel)
    {
        var tcp = new System.Net.Sockets.TcpClient { NoDelay = true };
        await tcp.ConnectAsync(address.Host, address.Port, cancel);
        return new RawHttp(tcp);
    }

    public Task SendAsync(string text, CancellationToken cancel) =>
        _tcp.GetStream().WriteAsync(System.Text.Encoding.ASCII.GetBytes(text), cancel).AsTask();

    /// <summary>Everything the server sends until it closes the connection or <paramref name="limit"/> passes.</summary>
    public async Task<string> ReadResponseAsync(TimeSpan limit, CancellationToken cancel)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        bounded.CancelAfter(limit);
        var received = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            for (int read; (read = await _tcp.GetStream().ReadAsync(buffer, bounded.Token)) > 0;)
            {
                received.Write(buffer, 0, read);
                if (System.Text.Encoding.ASCII.GetString(received.ToArray()).Contains("}")) break;   // the JSON body is whole
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException) { }
        return System.Text.Encoding.ASCII.GetString(received.ToArray());
    }

    public void Dispose() => _tcp.Dispose();
}
