using System.Globalization;
using NanoPose.Weights;

namespace NanoPose.Models;

/// <summary>The report of <c>nanopose info</c>: architecture, input size, parameters, multiply-accumulates, activation
/// memory and the family's own figures.</summary>
public static class NetworkInfo
{
    public static void Write(NpwFile file, IPoseNetwork network, TextWriter output)
    {
        var architecture = file.Architecture;
        output.WriteLine($"{file.Source}: {architecture.Family} / {architecture.Variant}");
        foreach (var (key, value) in architecture.Properties) output.WriteLine($"  {key} = {value}");
        output.WriteLine($"input: {network.InputChannels}×{network.InputHeight}×{network.InputWidth} (C×H×W)");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"parameters: {network.ParameterCount:N0}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"multiply-accumulates: {network.MultiplyAccumulates:N0} ({network.MultiplyAccumulates / 1e6:F1}M) at {network.InputHeight}×{network.InputWidth}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"activation memory: {network.BufferFloats:N0} floats ({network.BufferFloats * sizeof(float) / 1e6:F1} MB), planned by tensor liveness"));
        foreach (var (label, value) in network.Figures) output.WriteLine($"{label}: {value}");
    }
}
