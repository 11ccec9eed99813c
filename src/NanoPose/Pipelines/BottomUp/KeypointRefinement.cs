namespace NanoPose.Pipelines.BottomUp;

/// <summary>
/// The parser's sub-pixel and completion steps (MODELS.md C.3 steps 4–6; HigherHRNet <c>HeatmapParser.adjust</c>,
/// <c>refine</c>), on the raw (unsuppressed) aggregated heatmaps.
/// </summary>
public static class KeypointRefinement
{
    /// <summary>
    /// Every found joint (value &gt; 0) moves a quarter pixel toward its larger horizontal and vertical neighbour
    /// (away on a tie; neighbours clamped to the map), then half a pixel to the pixel centre.
    /// </summary>
    public static void Adjust(Keypoint[] person, AggregatedMaps maps)
    {
        ArgumentNullException.ThrowIfNull(person);
        ArgumentNullException.ThrowIfNull(maps);
        RequireJoints(person, maps);
        for (int j = 0; j < person.Length; j++)
        {
            var k = person[j];
            if (!(k.Score > 0)) continue;
            var (dx, dy) = QuarterOffset(maps.Heatmap(j), maps.Width, maps.Height, (int)k.X, (int)k.Y);
            person[j] = k with { X = k.X + dx + 0.5f, Y = k.Y + dy + 0.5f };
        }
    }

    /// <summary>The person score: the mean joint value, missing joints counting zero.</summary>
    public static float Score(Keypoint[] person)
    {
        ArgumentNullException.ThrowIfNull(person);
        double sum = 0;
        foreach (var k in person) sum += k.Score;
        return (float)(sum / person.Length);
    }

    /// <summary>
    /// Fills the missing joints of an adjusted person: the person tag is the float32 mean of the tags at its found
    /// joints (positions truncated); a missing joint takes the first maximum of heatmap − round(‖tag − person tag‖)
    /// if the heatmap value there is positive, placed at the pixel centre with the quarter offset.
    /// </summary>
    public static void Refine(Keypoint[] person, AggregatedMaps maps)
    {
        ArgumentNullException.ThrowIfNull(person);
        ArgumentNullException.ThrowIfNull(maps);
        RequireJoints(person, maps);

        var personTag = new float[maps.TagDimension];
        int found = 0;
        for (int j = 0; j < person.Length; j++)
        {
            if (!(person[j].Score > 0)) continue;
            var tag = maps.Tag(j, (int)person[j].Y, (int)person[j].X);
            for (int d = 0; d < personTag.Length; d++) personTag[d] += tag[d];
            found++;
        }
        if (found == 0) return;
        for (int d = 0; d < personTag.Length; d++) personTag[d] /= found;

        for (int j = 0; j < person.Length; j++)
        {
            if (person[j].Score != 0) continue;
            var heatmap = maps.Heatmap(j);
            int best = 0;
            float bestValue = float.NegativeInfinity;
            for (int i = 0; i < heatmap.Length; i++)
            {
                // The penalty is never negative, so a pixel whose heatmap value is not above the best cannot win.
                if (heatmap[i] <= bestValue) continue;
                var tag = maps.Tags.AsSpan((j * maps.PlaneSize + i) * maps.TagDimension, maps.TagDimension);
                float squares = 0;
                for (int d = 0; d < tag.Length; d++)
                {
                    float difference = tag[d] - personTag[d];
                    squares += difference * difference;
                }
                float value = heatmap[i] - MathF.Round(MathF.Sqrt(squares));
                if (value > bestValue)
                {
                    bestValue = value;
                    best = i;
                }
            }
            int x = best % maps.Width, y = best / maps.Width;
            float score = heatmap[best];
            if (!(score > 0)) continue;
            var (dx, dy) = QuarterOffset(heatmap, maps.Width, maps.Height, x, y);
            person[j] = new Keypoint(x + 0.5f + dx, y + 0.5f + dy, score);
        }
    }

    /// <summary>±0.25 along each axis toward the larger neighbour (−0.25 on a tie), neighbours clamped to the map.</summary>
    private static (float Dx, float Dy) QuarterOffset(ReadOnlySpan<float> heatmap, int width, int height, int x, int y)
    {
        float right = heatmap[y * width + Math.Min(x + 1, width - 1)], left = heatmap[y * width + Math.Max(x - 1, 0)];
        float below = heatmap[Math.Min(y + 1, height - 1) * width + x], above = heatmap[Math.Max(y - 1, 0) * width + x];
        return (right > left ? 0.25f : -0.25f, below > above ? 0.25f : -0.25f);
    }

    private static void RequireJoints(Keypoint[] person, AggregatedMaps maps)
    {
        if (person.Length != maps.Joints) throw new ArgumentException($"the person has {person.Length} joints, the maps {maps.Joints}", nameof(person));
    }
}
