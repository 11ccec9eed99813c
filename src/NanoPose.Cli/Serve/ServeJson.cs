using System.Text.Json.Serialization;

namespace NanoPose.Cli.Serve;

/// <summary>The body of every refusal: one line saying what was wrong.</summary>
internal sealed record ErrorJson(string Error);

/// <summary><c>GET /healthz</c>: the service runs; requests admitted now, and the limits they count against.</summary>
internal sealed record HealthJson(string Status, int InFlight, int Workers, int Queue);

/// <summary>Source-generated (reflection-free, NativeAOT-safe) JSON of the service's own answers; people are written
/// by <see cref="Evaluation.CocoJson"/>, as <c>predict</c> writes them.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(ErrorJson))]
[JsonSerializable(typeof(HealthJson))]
internal sealed partial class ServeJsonContext : JsonSerializerContext;
