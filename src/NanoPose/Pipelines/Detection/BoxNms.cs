using System.Buffers;

namespace NanoPose.Pipelines.Detection;

/// <summary>
/// Settings of <see cref="BoxNms"/>. The defaults are PicoDet's config (MODELS.md G.9), not the 0.3 / 0.5 that the
/// exporter writes into infer_cfg.yml. A negative top-K means no limit, as in Paddle.
/// </summary>
/// <param name="ScoreThreshold">Candidates need a score strictly above it.</param>
/// <param name="NmsTopK">Only the best this many candidates enter the suppression.</param>
/// <param name="IouThreshold">A candidate survives only if its IoU with every kept box is at most this.</param>
/// <param name="KeepTopK">At most this many boxes come out.</param>
public sealed record BoxNmsOptions(float ScoreThreshold = 0.025f, int NmsTopK = 1000, float IouThreshold = 0.6f, int KeepTopK = 100);

/// <summary>
/// Paddle's <c>multiclass_nms</c> (CPU kernel, normalized = true, nms_eta = 1) for a single class: keep scores above
/// the threshold, stable sort by descending score, keep the best <see cref="BoxNmsOptions.NmsTopK"/>, greedy
/// suppression, then the best <see cref="BoxNmsOptions.KeepTopK"/>. Float arithmetic throughout, like Paddle's float kernel.
/// <para>
/// Hostile values: a NaN score is not above the threshold, so that box is dropped; +∞ passes and sorts first. Boxes
/// go through Paddle's IoU unchanged (<see cref="Iou"/>), and Paddle keeps a candidate only if the IoU is ≤ the
/// threshold, so a NaN IoU suppresses: a kept box with a NaN coordinate suppresses every later box it is not
/// separated from on a finite coordinate. The work is at most one sort of the candidates plus
/// min(N, NmsTopK) × KeepTopK IoUs; nothing loops on the values.
/// </para>
/// </summary>
public static class BoxNms
{
    private static readonly BoxNmsOptions Defaults = new();

    /// <summary>Runs the NMS on N boxes (4N floats, x1 y1 x2 y2) and N scores; returns the kept boxes, best first.</summary>
    public static List<DetectedBox> Run(ReadOnlySpan<float> boxes, ReadOnlySpan<float> scores, BoxNmsOptions? options = null)
    {
        var kept = new List<DetectedBox>();
        Run(boxes, scores, options ?? Defaults, kept);
        return kept;
    }

    /// <summary>
    /// As <see cref="Run(ReadOnlySpan{float}, ReadOnlySpan{float}, BoxNmsOptions?)"/>, into <paramref name="kept"/>
    /// (cleared first), so a caller reusing the list allocates nothing once it and the shared pool are warm.
    /// </summary>
    public static void Run(ReadOnlySpan<float> boxes, ReadOnlySpan<float> scores, BoxNmsOptions options, List<DetectedBox> kept)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(kept);
        if (float.IsNaN(options.ScoreThreshold)) throw new ArgumentException("the score threshold is NaN", nameof(options));
        if (float.IsNaN(options.IouThreshold)) throw new ArgumentException("the IoU threshold is NaN", nameof(options));
        int n = scores.Length;
        if (boxes.Length != 4L * n) throw new ArgumentException($"{n} scores need 4·{n} box coordinates, found {boxes.Length}", nameof(boxes));
        kept.Clear();
        int keepTopK = options.KeepTopK < 0 ? int.MaxValue : options.KeepTopK;
        if (n == 0 || keepTopK == 0) return;

        long[] keys = ArrayPool<long>.Shared.Rent(n);
        try
        {
            int candidates = 0;
            for (int i = 0; i < n; i++)
                if (scores[i] > options.ScoreThreshold) keys[candidates++] = SortKey(scores[i], i);
            // Ascending keys = descending score, then ascending index: the order of Paddle's stable_sort.
            Array.Sort(keys, 0, candidates);
            if (options.NmsTopK >= 0) candidates = Math.Min(candidates, options.NmsTopK);

            for (int c = 0; c < candidates && kept.Count < keepTopK; c++)
            {
                int index = (int)(uint)keys[c];
                var box = new DetectedBox(boxes[4 * index], boxes[4 * index + 1], boxes[4 * index + 2], boxes[4 * index + 3], scores[index]);
                bool keep = true;
                for (int k = 0; k < kept.Count && keep; k++) keep = Iou(box, kept[k]) <= options.IouThreshold;
                // Stopping at KeepTopK changes nothing: the final cut keeps the first KeepTopK in this same order.
                if (keep) kept.Add(box);
            }
        }
        finally
        {
            ArrayPool<long>.Shared.Return(keys);
        }
    }

    /// <summary>
    /// Paddle's <c>JaccardOverlap</c> with normalized = true, in float, kept as written (the candidate first, the
    /// kept box second): 0 when the boxes are apart on some axis, else intersection / (area₁ + area₂ − intersection),
    /// where an inverted box (x2 &lt; x1 or y2 &lt; y1) has area 0 but its "intersection" is still the signed product.
    /// So an inverted candidate against a box spanning it gets a negative or positive IoU, and can even divide by zero
    /// (+∞, or NaN for 0/0); std::max/std::min semantics decide what a NaN coordinate does.
    /// </summary>
    public static float Iou(DetectedBox candidate, DetectedBox kept)
    {
        if (kept.X1 > candidate.X2 || kept.X2 < candidate.X1 || kept.Y1 > candidate.Y2 || kept.Y2 < candidate.Y1) return 0f;
        float width = StdMin(candidate.X2, kept.X2) - StdMax(candidate.X1, kept.X1);
        float height = StdMin(candidate.Y2, kept.Y2) - StdMax(candidate.Y1, kept.Y1);
        float intersection = width * height;
        return intersection / (Area(candidate) + Area(kept) - intersection);
    }

    private static float Area(DetectedBox box) =>
        box.X2 < box.X1 || box.Y2 < box.Y1 ? 0f : (box.X2 - box.X1) * (box.Y2 - box.Y1);

    // C++ std::max(a, b) is (a < b) ? b : a and std::min(a, b) is (b < a) ? b : a; unlike MathF they do not
    // propagate a NaN in the second argument.
    private static float StdMax(float a, float b) => a < b ? b : a;

    private static float StdMin(float a, float b) => b < a ? b : a;

    /// <summary>
    /// A key whose ascending order is descending score, ties by ascending index. The float's bits are mapped to an
    /// int that orders like the float (negative values flipped), then complemented; −0 counts as +0, as it compares equal.
    /// </summary>
    private static long SortKey(float score, int index)
    {
        int bits = BitConverter.SingleToInt32Bits(score == 0f ? 0f : score);
        int ordered = bits >= 0 ? bits : bits ^ int.MaxValue;
        return ((long)~ordered << 32) | (uint)index;
    }
}
