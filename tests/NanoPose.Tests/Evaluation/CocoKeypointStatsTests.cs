using NanoPose.Evaluation;

namespace NanoPose.Tests.Evaluation;

public class CocoKeypointStatsTests
{
    private static readonly CocoKeypointStats s_stats = new(0.8354, 1, 0.9114, 0.7582, 0.8976, 0.8667, 1, 0.9167, 0.78, 0.9286);

    [Fact]
    public void PrintsPycocotoolsSummaryLines()
    {
        string[] lines = s_stats.ToPycocotoolsText().TrimEnd('\n').Split('\n');
        Assert.Equal(10, lines.Length);
        Assert.Equal(" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets= 20 ] = 0.835", lines[0]);
        Assert.Equal(" Average Precision  (AP) @[ IoU=0.75      | area=   all | maxDets= 20 ] = 0.911", lines[2]);
        Assert.Equal(" Average Precision  (AP) @[ IoU=0.50:0.95 | area= large | maxDets= 20 ] = 0.898", lines[4]);
        Assert.Equal(" Average Recall     (AR) @[ IoU=0.50      | area=   all | maxDets= 20 ] = 1.000", lines[6]);
        Assert.Equal(" Average Recall     (AR) @[ IoU=0.50:0.95 | area=medium | maxDets= 20 ] = 0.780", lines[8]);
    }

    [Theory]
    [InlineData(0.0625, "0.062")] // exact ties round to even, as Python's format does
    [InlineData(0.1875, "0.188")]
    [InlineData(0.9375, "0.938")]
    [InlineData(0.0626, "0.063")]
    [InlineData(1.0, "1.000")]
    [InlineData(-1.0, "-1.000")]
    [InlineData(0.8353960396039604, "0.835")]
    public void FormatsNumbersLikePython(double value, string expected) =>
        Assert.Equal(expected, CocoKeypointStats.FormatLikePython(value));

    [Fact]
    public void JsonUsesPycocotoolsLabelsAndRoundTrips()
    {
        string json = s_stats.ToJson();
        Assert.Contains("\"AP .75\":0.9114", json);
        Assert.Contains("\"AR (M)\":0.78", json);
        Assert.Equal(s_stats, CocoKeypointStats.FromJson(json, "stats.json"));
        var e = Assert.Throws<CocoFormatException>(() => CocoKeypointStats.FromJson("{\"AP\": \"high\"}", "stats.json"));
        Assert.Equal("stats.json", e.File);
        Assert.Equal("$.AP", e.Field);
    }
}
