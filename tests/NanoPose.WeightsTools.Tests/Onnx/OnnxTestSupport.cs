using Microsoft.ML.OnnxRuntime;
using NanoPose.Layers;
using NanoPose.Weights;
using NanoPose.WeightsTools.Conversion;

namespace NanoPose.WeightsTools.Tests.Onnx;

internal static class OnnxTestSupport
{
    /// <summary>A .npw file of the network <paramref name="build"/> makes from <paramref name="weights"/> (every
    /// convolution it asks for, as convert writes them).</summary>
    public static NpwFile Npw(ModelArchitecture architecture, IWeightSource weights, Action<IWeightSource> build)
    {
        var recording = new RecordingWeightSource(weights);
        build(recording);
        var writer = new NpwWriter(architecture);
        recording.WriteTo(writer, WeightDType.Float32);
        return NpwFile.Parse(writer.ToBytes(), architecture.Variant + ".npw");
    }

    public static float[] RandomImage(int height, int width, int seed)
    {
        var random = new Random(seed);
        var image = new float[3 * height * width];
        for (int i = 0; i < image.Length; i++) image[i] = random.NextSingle() * 4 - 2;   // about the range of a normalised image
        return image;
    }

    /// <summary>Runs an ONNX model in ONNX Runtime on one 1×C×H×W input named <c>image</c>; every output with its shape.</summary>
    public static List<(string Name, long[] Shape, float[] Values)> Run(InferenceSession session, float[] image, int channels, int height, int width)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(image, [1, channels, height, width]);
        using var options = new RunOptions();
        using var outputs = session.Run(options, ["image"], [input], session.OutputNames);
        return [.. outputs.Select((o, i) => (session.OutputNames[i], o.GetTensorTypeAndShape().Shape, o.GetTensorDataAsSpan<float>().ToArray()))];
    }

    public static float MaxAbsDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Assert.Equal(a.Length, b.Length);
        float max = 0;
        for (int i = 0; i < a.Length; i++) max = MathF.Max(max, MathF.Abs(a[i] - b[i]));
        return max;
    }

    /// <summary>The standard deviation within each channel of an NCHW map, averaged over the channels.</summary>
    public static double MeanSpatialDeviation(float[] nchw, int channels)
    {
        int plane = nchw.Length / channels;
        return Enumerable.Range(0, channels).Average(c => StandardDeviation(nchw.AsSpan(c * plane, plane)));
    }

    public static double StandardDeviation(ReadOnlySpan<float> values)
    {
        double mean = 0, squares = 0;
        foreach (float v in values) mean += v;
        mean /= values.Length;
        foreach (float v in values) squares += (v - mean) * (v - mean);
        return Math.Sqrt(squares / values.Length);
    }
}
