using System.Diagnostics;
using System.Net;
using NanoPose.Cli.Serve;
using NanoPose.TestSupport;

namespace NanoPose.Cli.Tests;

/// <summary>
/// <see cref="PoseService"/> against hostile clients on a loopback port: a seeded family of malformed requests (cut
/// and garbage images, wrong content types, bad query values) each answered 400 or 415 with a one-line JSON message;
/// a client that trickles its body (408), one that goes away mid-body or mid-estimate (its work stops, the service
/// serves on); and a bounded load test that loses nothing and keeps memory flat. Alone in its collection, run after
/// the others: the load test measures the process's memory, and the disconnect test compares two timings.
/// </summary>
[CollectionDefinition(nameof(ServeHostileTests), DisableParallelization = true)]
public sealed class ServeHostileTestsCollection;

/// <inheritdoc cref="ServeHostileTestsCollection"/>
[Collection(nameof(ServeHostileTests))]
public sealed class ServeHostileTests
{
    private static readonly byte[] Photo = File.ReadAllBytes(ServeTests.SamplePath);

    [Fact]
    public async Task MalformedRequestsAnswerWithAMessage()
    {
        var cancel = TestContext.Current.CancellationToken;
        await using var service = await PoseService.StartAsync(new ServeOptions { Port = 0, Timeout = ServeTests.TestTimeout, Workers = 2 }, cancel);
        using var client = new HttpClient { BaseAddress = service.Address };
        var family = new HostileFamily("serve malformed requests", seed: 1807);
        byte[] png = Convert.FromHexString("89504E470D0A1A0A");
        string[] badQueries =
        [
            "raw=0x10", "raw=10", "raw=axb", "raw=10x10x3", "raw=-4x4", "raw=100000x100000", "raw=4x4&format=yuv420", "format=rgb24",
            "flip=maybe", "decode=fast", "image_id=seven", "boxes=1,2,3", "boxes=1,2,3,4,5,6", "boxes=a,b,c,d", "boxes=0,0,0,10",
            "boxes=NaN,0,10,10", "boxes=5000,5000,10,10", "det_threshold=1.5", "det_threshold=low", "colour=red", "flip=true&flip=false", "raw=4x4",
        ];
        string[] badTypes = ["text/plain", "application/json", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "video/mp4"];
        const int Cases = 120;
        for (int c = 0; c < Cases; c++)
        {
            var random = family.CaseRandom(c);
            int kind = c % 4;
            string query = "", contentType = "image/jpeg", label;
            byte[] body;
            var expected = HttpStatusCode.BadRequest;
            string mention;
            switch (kind)
            {
                case 0:   // the photo cut anywhere: predict's "not complete"/"cannot decode" message, naming the source
                    int cut = random.Next(1, Photo.Length - 2);
                    body = Photo[..cut];
                    label = $"jpeg cut at {cut}";
                    mention = "request body";
                    break;
                case 1:   // garbage, bare or behind a real JPEG or PNG signature
                    body = new byte[random.Next(1, 4096)];
                    random.NextBytes(body);
                    int signature = random.Next(3);
                    if (signature == 1) Photo.AsSpan(0, Math.Min(body.Length, 20)).CopyTo(body);
                    if (signature == 2) png.AsSpan(0, Math.Min(body.Length, png.Length)).CopyTo(body);
                    label = $"{body.Length} garbage bytes, signature {signature}";
                    mention = "request body";
                    break;
                case 2:
                    body = Photo;
                    contentType = badTypes[random.Next(badTypes.Length)];
                    expected = HttpStatusCode.UnsupportedMediaType;
                    label = $"content type {contentType}";
                    mention = "is not an image";
                    break;
                default:
                    query = badQueries[(c / 4) % badQueries.Length];
                    body = query.StartsWith("boxes", StringComparison.Ordinal) || query.StartsWith("colour", StringComparison.Ordinal) || query.StartsWith("flip", StringComparison.Ordinal)
                        || query.StartsWith("decode", StringComparison.Ordinal) || query.StartsWith("image", StringComparison.Ordinal) || query.StartsWith("det", StringComparison.Ordinal) ? Photo : new byte[10];
                    label = $"query {query}";
                    mention = query.Split('&')[^1].Split('=')[0];   // the parameter at fault
                    break;
            }
            string url = $"/v1/pose?{query}";
            family.Run(label, () =>
            {
                using var response = client.PostAsync(url, ServeTests.Body(body, contentType), cancel).GetAwaiter().GetResult();
                ServeTests.AssertError(response, expected, mention).GetAwaiter().GetResult();
            });
        }
        // Still serving, nothing failed inside.
        using var after = await client.PostAsync("/v1/pose", ServeTests.Body(Photo), cancel);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal(0, service.Counters.Failed);
        TestContext.Current.TestOutputHelper?.WriteLine(service.Counters.ToString());
        family.Finish(Cases, TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task SlowClientTimesOut()
    {
        var cancel = TestContext.Current.CancellationToken;
        await using var service = await PoseService.StartAsync(new ServeOptions { Port = 0, Workers = 1, Timeout = TimeSpan.FromSeconds(1) }, cancel);
        using var slow = await RawHttp.ConnectAsync(service.Address, cancel);
        await slow.SendAsync("POST /v1/pose HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: 1000\r\n\r\n", cancel);
        var clock = Stopwatch.StartNew();
        // A byte every 100 ms: the whole body would take 100 s; the service gives up after its 1 s.
        var trickle = Task.Run(async () =>
        {
            try
            {
                for (int i = 0; i < 1000 && !cancel.IsCancellationRequested; i++)
                {
                    await slow.SendAsync("x", cancel);
                    await Task.Delay(100, cancel);
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException) { }   // the server closed the connection
        }, cancel);
        string response = await slow.ReadResponseAsync(TimeBounds.ForThisLeg(TimeSpan.FromSeconds(20)), cancel);
        TestContext.Current.TestOutputHelper?.WriteLine($"answered after {clock.Elapsed.TotalSeconds:F2} s: {response.Split("\r\n")[0]}");
        Assert.StartsWith("HTTP/1.1 408", response);
        Assert.Contains("did not arrive within 1 s", response);
        slow.Dispose();
        await trickle;
        Assert.Equal(1, service.Counters.TimedOut);
        // The service still answers, within its 1 s: the photo with no boxes (no network run, which in CI's scalar leg
        // alone takes longer than 1 s).
        using var client = new HttpClient { BaseAddress = service.Address };
        using var after = await client.PostAsync("/v1/pose?boxes=", ServeTests.Body(Photo), cancel);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal("[]", await after.Content.ReadAsStringAsync(cancel));
    }

    [Fact]
    public async Task ClientGoneMidBodyLeavesTheServiceServing()
    {
        var cancel = TestContext.Current.CancellationToken;
        await using var service = await PoseService.StartAsync(new ServeOptions { Port = 0, Timeout = ServeTests.TestTimeout, Workers = 1, Queue = 0 }, cancel);
        using var client = new HttpClient { BaseAddress = service.Address };
        for (int round = 0; round < 5; round++)
        {
            // The last round's answer reaches the client before the service counts that request out: a request sent
            // in between would find the only place taken and get 503 (CI's scalar leg, slower, once did).
            await WaitFor(() => service.InFlight == 0, "the last request to be counted out");
            using (var gone = await RawHttp.ConnectAsync(service.Address, cancel))
            {
                await gone.SendAsync($"POST /v1/pose HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: {Photo.Length}\r\n\r\n", cancel);
                await gone.SendAsync(System.Text.Encoding.Latin1.GetString(Photo, 0, Photo.Length / 2), cancel);
                await WaitFor(() => service.InFlight == 1, "the request to be admitted");
            }
            // With one worker and no queue, the next request is served only once the abandoned one is let go.
            await WaitFor(() => service.InFlight == 0, "the abandoned request to end");
            using var next = await client.PostAsync("/v1/pose", ServeTests.Body(Photo), cancel);
            Assert.Equal(HttpStatusCode.OK, next.StatusCode);
            await WaitFor(() => service.InFlight == 0, "the answer to be counted");   // counted after its response is written
        }
        Assert.Equal(5, service.Counters.Canceled + service.Counters.Refused);   // reset seen as an abort, or as a body cut short
        Assert.Equal(5, service.Counters.Answered);
    }

    [Fact]
    public async Task ClientGoneMidEstimateStopsItsWork()
    {
        var cancel = TestContext.Current.CancellationToken;
        await using var service = await PoseService.StartAsync(new ServeOptions { Port = 0, Timeout = ServeTests.TestTimeout, Workers = 1 }, cancel);
        using var client = new HttpClient { BaseAddress = service.Address };
        // 40 boxes with the flip test: 80 network runs, a second or more of work (8 boxes in CI's scalar leg, as long).
        int boxCount = TimeBounds.Factor > 1 ? 8 : 40;
        string boxes = string.Join(";", Enumerable.Range(0, boxCount).Select(i => $"{i % 10 * 40},{i / 10 * 20},200,300"));
        string url = $"/v1/pose?flip=true&boxes={boxes}";
        var clock = Stopwatch.StartNew();
        using (var whole = await client.PostAsync(url, ServeTests.Body(Photo), cancel))
            Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        var wholeTime = clock.Elapsed;
        await WaitFor(() => service.InFlight == 0, "the whole request to be counted out");   // so that 1 below is the next one

        using var leave = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var request = client.PostAsync(url, ServeTests.Body(Photo), leave.Token);
        await WaitFor(() => service.InFlight == 1, "the request to be admitted");
        await Task.Delay(wholeTime / 5, cancel);
        leave.Cancel();   // HttpClient closes the connection
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
        clock.Restart();
        await WaitFor(() => service.InFlight == 0, "the abandoned estimate to stop");
        var stopTime = clock.Elapsed;
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"whole request {wholeTime.TotalMilliseconds:F0} ms; abandoned one left {stopTime.TotalMilliseconds:F0} ms after its client went, at {wholeTime.TotalMilliseconds / 5:F0} ms");
        Assert.Equal(1, service.Counters.Canceled);
        // Not a speed check: the estimate stopped before its remaining network runs (4/5 of the whole) had run.
        Assert.True(stopTime < wholeTime * 0.6, $"the abandoned request took {stopTime.TotalMilliseconds:F0} ms to stop; the whole one {wholeTime.TotalMilliseconds:F0} ms");
        using var after = await client.PostAsync("/v1/pose", ServeTests.Body(Photo), cancel);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    /// <summary>
    /// 200 requests at concurrency 4 on 127.0.0.1 (2 workers and a queue of 2: room for the 4, but a client may send
    /// its next request before the service has counted its last one out, which is turned away with 503): every request is answered 200 or 503, every 200 holds the skier, and the process's working set after the
    /// run is within 64 MB of what it was after a warm-up of 40 requests (both after a full collection). Prints throughput and p50/p99 latency.
    /// </summary>
    [Fact]
    public async Task LoadTestLosesNothingAndKeepsMemoryFlat()
    {
        var cancel = TestContext.Current.CancellationToken;
        await using var service = await PoseService.StartAsync(new ServeOptions { Port = 0, Timeout = ServeTests.TestTimeout, Workers = 2, Queue = 2 }, cancel);
        using var client = new HttpClient { BaseAddress = service.Address };
        string expected;
        using (var first = await client.PostAsync("/v1/pose", ServeTests.Body(Photo), cancel))
            expected = await first.Content.ReadAsStringAsync(cancel);
        Assert.StartsWith("[{\"image_id\":1,", expected);

        async Task<(HttpStatusCode Status, double Milliseconds)[]> Run(int requests, int concurrency)
        {
            var results = new (HttpStatusCode, double)[requests];
            int next = -1;
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
            {
                for (int i; (i = Interlocked.Increment(ref next)) < requests;)
                {
                    long start = Stopwatch.GetTimestamp();
                    using var response = await client.PostAsync("/v1/pose", ServeTests.Body(Photo), cancel);
                    string text = await response.Content.ReadAsStringAsync(cancel);
                    if (response.StatusCode == HttpStatusCode.OK) Assert.Equal(expected, text);
                    else await ServeTests.AssertError(response, HttpStatusCode.ServiceUnavailable, "busy");
                    results[i] = (response.StatusCode, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                }
            }, cancel)));
            return results;
        }

        await Run(40, 4);   // warm-up: estimation instances, buffers, connections
        long warm = SettledResidentBytes(), warmHeap = GC.GetTotalMemory(forceFullCollection: false);
        var clock = Stopwatch.StartNew();
        var results = await Run(200, 4);
        clock.Stop();
        long after = SettledResidentBytes(), afterHeap = GC.GetTotalMemory(forceFullCollection: false);

        int ok = results.Count(r => r.Status == HttpStatusCode.OK), busy = results.Count(r => r.Status == HttpStatusCode.ServiceUnavailable);
        var served = results.Where(r => r.Status == HttpStatusCode.OK).Select(r => r.Milliseconds).Order().ToArray();
        double Percentile(double p) => served.Length == 0 ? double.NaN : served[Math.Min(served.Length - 1, (int)Math.Ceiling(p * served.Length) - 1)];
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"load: 200 requests at concurrency 4 on 127.0.0.1 (2 workers, queue 2): {ok} answered 200, {busy} 503 (busy) in {clock.Elapsed.TotalSeconds:F2} s; " +
            $"{ok / clock.Elapsed.TotalSeconds:F1} images/s served; latency of the 200s p50 {Percentile(0.5):F1} ms, p99 {Percentile(0.99):F1} ms; " +
            $"working set after warm-up {warm / 1e6:F1} MB, after the run {after / 1e6:F1} MB ({(after - warm) / 1e6:+0.0;-0.0} MB; managed heap {warmHeap / 1e6:F1} → {afterHeap / 1e6:F1} MB); service counters: {service.Counters}");
        Assert.Equal(200, ok + busy);   // nothing lost: every request answered, served or deliberately refused
        Assert.True(ok > 0, "no request was served");
        Assert.Equal(0, service.Counters.Failed + service.Counters.TimedOut + service.Counters.Canceled);
        Assert.True(after - warm < 64_000_000, $"working set grew {(after - warm) / 1e6:F1} MB over the run (bound 64 MB)");
    }

    /// <summary>Resident memory after a full, compacting collection that returns freed memory to the system (so
    /// that what the collector merely kept does not count as growth).</summary>
    private static long SettledResidentBytes()
    {
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        return ProcessMemory.ResidentBytes() ?? Process.GetCurrentProcess().WorkingSet64;
    }

    /// <summary>Polls <paramref name="condition"/> every 10 ms until it holds; fails past <paramref name="bound"/>
    /// (default 15 s, stretched in CI's scalar leg).</summary>
    internal static async Task WaitFor(Func<bool> condition, string what, TimeSpan? bound = null)
    {
        var limit = bound ?? TimeBounds.ForThisLeg(TimeSpan.FromSeconds(15));
        for (var clock = Stopwatch.StartNew(); !condition(); await Task.Delay(10, TestContext.Current.CancellationToken))
            if (clock.Elapsed > limit) Assert.Fail($"waited {limit.TotalSeconds} s for {what}");
    }
}
