namespace NanoPose.Pipelines.BottomUp;

/// <summary>
/// Turns aggregated heatmaps and tags into people (MODELS.md C.3; HigherHRNet <c>HeatmapParser.parse</c> and
/// <c>get_final_preds</c>): peak suppression, top-k per joint, tag grouping, adjust, person score, refine, and
/// optionally the projection to image pixels. Stateless and thread-safe.
/// </summary>
public sealed class HeatmapParser(ParserOptions? options = null)
{
    public ParserOptions Options { get; } = Validated(options ?? new ParserOptions());

    /// <summary>People in map coordinates (pixels of the aggregated maps), in the order the grouping created them.</summary>
    public List<BottomUpPerson> Parse(AggregatedMaps maps) => Parse(maps, TagGrouping.CocoJointOrder);

    /// <inheritdoc cref="Parse(AggregatedMaps)"/>
    public List<BottomUpPerson> Parse(AggregatedMaps maps, ReadOnlySpan<int> jointOrder)
    {
        ArgumentNullException.ThrowIfNull(maps);
        // A plane-sized scratch from the shared pool: large, and needed only here (the parser stays stateless).
        var scratch = System.Buffers.ArrayPool<float>.Shared.Rent(maps.PlaneSize);
        var candidates = new JointCandidates[maps.Joints];
        try
        {
            var suppressed = scratch.AsSpan(0, maps.PlaneSize);
            for (int j = 0; j < maps.Joints; j++)
            {
                PeakSelection.SuppressNonMaxima(maps.Heatmap(j), maps.Height, maps.Width, Options.NmsKernel, suppressed);
                candidates[j] = PeakSelection.TopK(suppressed, maps, j, Options.MaxPeople);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(scratch);
        }

        var people = TagGrouping.Group(candidates, jointOrder, Options);
        var result = new List<BottomUpPerson>(people.Count);
        foreach (var person in people)
        {
            if (Options.Adjust) KeypointRefinement.Adjust(person, maps);
            float score = KeypointRefinement.Score(person);
            if (Options.Refine) KeypointRefinement.Refine(person, maps);
            result.Add(new BottomUpPerson(person, score));
        }
        return result;
    }

    /// <summary>People in image pixels: <see cref="Parse(AggregatedMaps)"/>, then every keypoint mapped back
    /// through the input alignment (missing joints too, as the reference does; their score stays 0).</summary>
    public List<BottomUpPerson> Parse(AggregatedMaps maps, InputAlignment alignment)
    {
        ArgumentNullException.ThrowIfNull(alignment);
        return [.. Parse(maps).Select(p => ToImage(p, alignment, maps.Width, maps.Height))];
    }

    /// <summary>A person from map coordinates (a <paramref name="mapWidth"/> × <paramref name="mapHeight"/> map over
    /// the network input) to image pixels.</summary>
    public static BottomUpPerson ToImage(BottomUpPerson person, InputAlignment alignment, int mapWidth, int mapHeight)
    {
        ArgumentNullException.ThrowIfNull(person);
        ArgumentNullException.ThrowIfNull(alignment);
        var keypoints = new Keypoint[person.Keypoints.Length];
        for (int j = 0; j < keypoints.Length; j++)
        {
            var k = person.Keypoints[j];
            var (x, y) = alignment.ToImage(k.X, k.Y, mapWidth, mapHeight);
            keypoints[j] = new Keypoint(x, y, k.Score);
        }
        return person with { Keypoints = keypoints };
    }

    private static ParserOptions Validated(ParserOptions options)
    {
        options.Validate();
        return options;
    }
}
