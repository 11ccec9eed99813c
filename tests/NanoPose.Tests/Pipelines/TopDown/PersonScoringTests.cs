using NanoPose.Pipelines.TopDown;

namespace NanoPose.Tests.Pipelines.TopDown;

public class PersonScoringTests
{
    [Fact]
    public void AveragesTheJointScoresAboveTheThresholdTimesTheBoxScore()
    {
        Keypoint[] keypoints = [new(0, 0, 0.9f), new(0, 0, 0.2f), new(0, 0, 0.5f), new(0, 0, 0.1f)];
        Assert.Equal((0.9f + 0.5f) / 2 * 0.8f, PersonScoring.InstanceScore(keypoints, 0.8f));
        Assert.Equal(0f, PersonScoring.InstanceScore([new(0, 0, 0.2f)], 1f));
    }
}

public class OksNmsTests
{
    [Fact]
    public void SimilarityIsOneForTheSamePoseAndFallsWithDistance()
    {
        var a = Person(0, 0, 0.9f);
        Assert.Equal(1f, OksNms.Similarity(a, a));
        // Every joint moved by d: OKS = mean_j exp(−d² / (2·(2σ_j)²·area)), area = 200·200.
        var moved = Person(3, 4, 0.5f);
        double expected = CocoKeypoints.Sigmas.Average(s => Math.Exp(-25 / (2 * (2 * s) * (2 * s) * 40000)));
        Assert.Equal(expected, OksNms.Similarity(a, moved), 1e-6);
    }

    [Fact]
    public void KeepsTheBestOfNearDuplicatesAndEveryDistinctPerson()
    {
        TopDownPerson[] people = [Person(0, 0, 0.5f), Person(0.5, 0, 0.9f), Person(300, 0, 0.7f), Person(0, 0.5, 0.6f)];
        Assert.Equal([1, 2], OksNms.Keep(people));
        Assert.Equal([1, 2, 3, 0], OksNms.Keep(people, threshold: 1.0));
        Assert.Empty(OksNms.Keep([]));
    }

    [Fact]
    public void BreaksScoreTiesLikeNumpyArgsortReversed()
    {
        TopDownPerson[] people = [Person(0, 0, 0.5f), Person(0, 0, 0.5f)];
        Assert.Equal([1], OksNms.Keep(people));
    }

    /// <summary>A person whose 17 joints sit 10 px apart along a line, shifted by (dx, dy); padded box 200×200.</summary>
    private static TopDownPerson Person(double dx, double dy, float score) => new(
        [.. Enumerable.Range(0, CocoKeypoints.Count).Select(j => new Keypoint((float)(100 + 10 * j + dx), (float)(50 + dy), 0.9f))],
        score, new PersonBox(0, 0, 150, 200), new CenterScale(75, 100, 1, 1));
}
