using NanoPose.Pipelines.TopDown;

namespace NanoPose.Tests.Pipelines.TopDown;

public class HeatmapDecoderTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(HeatmapDecoding.Default)]
    [InlineData(HeatmapDecoding.Dark)]
    public void DecodesLikeMmpose(HeatmapDecoding decoding)
    {
        const int joints = CocoKeypoints.Count;
        var keypoints = new Keypoint[joints];
        double worstPosition = 0, worstScore = 0;
        foreach (var golden in TopDownCase.Cases)
        {
            HeatmapDecoder.Decode(golden.Array("heatmaps_flip_averaged").Data, joints, TopDownCase.HeatmapHeight, TopDownCase.HeatmapWidth, decoding, keypoints);
            HeatmapDecoder.ToImage(keypoints, golden.CenterScale, TopDownCase.HeatmapWidth, TopDownCase.HeatmapHeight);
            var expected = golden.Decoded(decoding);
            for (int j = 0; j < joints; j++)
            {
                worstPosition = Math.Max(worstPosition, Math.Max(Math.Abs(keypoints[j].X - expected[j].X), Math.Abs(keypoints[j].Y - expected[j].Y)));
                worstScore = Math.Max(worstScore, Math.Abs(keypoints[j].Score - expected[j].Score));
            }
        }
        output.WriteLine($"{decoding} decoding, 12 cases: keypoints max abs diff {worstPosition:E2} px, scores {worstScore:E2}");
        Assert.True(worstPosition <= 1e-3, $"keypoints max abs diff {worstPosition:E2} px");
        Assert.True(worstScore <= 1e-5, $"scores max abs diff {worstScore:E2}");
    }
}
