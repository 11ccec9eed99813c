using NanoPose.Models.PicoDet;

namespace NanoPose.Pipelines.Detection;

/// <summary>
/// The decoding that PicoDet's exported graph does after the head (MODELS.md G.6), one level at a time: the score
/// √(σ(class)·σ(alignment)) and, per side, the expectation of a softmax over 8 distance bins times the stride.
/// Maps are NHWC: the value at (y, x, c) of an H×W×C map is at (y·W + x)·C + c. Anchors come out row-major within
/// a level, and <see cref="Decode"/> places the levels one after another (strides 8, 16, 32, 64), the graph's order.
/// </summary>
public static class PicoDetDecoder
{
    /// <summary>Distance bins per side (the distribution's support is 0 … 7 strides).</summary>
    public const int Bins = 8;

    /// <summary>Regression channels per anchor: sides left, top, right, bottom, each <see cref="Bins"/> bins.</summary>
    public const int RegressionChannels = 4 * Bins;

    /// <summary>Levels of the head.</summary>
    public const int Levels = 4;

    /// <summary>The stride of a level: 8, 16, 32, 64.</summary>
    public static int Stride(int level)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(level);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(level, Levels);
        return 8 << level;
    }

    /// <summary>
    /// The map size of a level for an input of <paramref name="inputHeight"/> × <paramref name="inputWidth"/>: the
    /// input divided by the stride, rounded up (only the stride-64 level can round, as the input must be a multiple of 32).
    /// </summary>
    public static (int Height, int Width) LevelSize(int inputHeight, int inputWidth, int level)
    {
        CheckInputSize(inputHeight, inputWidth);
        int stride = Stride(level);
        return ((inputHeight + stride - 1) / stride, (inputWidth + stride - 1) / stride);
    }

    /// <summary>
    /// N, the number of anchors (boxes and scores) for an input size: (H/8)(W/8) + (H/16)(W/16) + (H/32)(W/32) +
    /// ⌈H/64⌉⌈W/64⌉ (765 at 192×192, 2125 at 320×320). The network only accepts sizes that are multiples of 32.
    /// </summary>
    public static int AnchorCount(int inputHeight, int inputWidth)
    {
        int count = 0;
        for (int level = 0; level < Levels; level++)
        {
            var (h, w) = LevelSize(inputHeight, inputWidth, level);
            count = checked(count + h * w);
        }
        return count;
    }

    /// <summary>
    /// Decodes every level of a run of the detector, in the graph's order (level by level, row-major in each): writes the
    /// boxes (x1, y1, x2, y2 in input pixels) and scores of <see cref="PicoDetOutputs.AnchorCount"/> anchors and returns
    /// that count. With <paramref name="boxesAbove"/>, see <see cref="DecodeLevel"/>.
    /// </summary>
    public static int Decode(PicoDetOutputs outputs, Span<float> boxes, Span<float> scores, float? boxesAbove = null)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        int anchor = 0;
        foreach (var level in outputs.Levels)
            anchor += DecodeLevel(level.ClassLogit.Span, level.AlignmentLogit.Span, level.BoxLogits.Span,
                level.ClassLogit.Height, level.ClassLogit.Width, level.Stride, boxes[(4 * anchor)..], scores[anchor..], boxesAbove);
        return anchor;
    }

    /// <summary>
    /// Decodes one level of <paramref name="height"/> × <paramref name="width"/> anchors: writes their boxes
    /// (x1, y1, x2, y2 in input pixels, not clipped) to the first 4·H·W floats of <paramref name="boxes"/> and their
    /// scores to the first H·W of <paramref name="scores"/>, and returns H·W. Allocates nothing. Non-finite logits are
    /// not checked: they come out as NaN or infinite values where the arithmetic puts them.
    /// <para>
    /// With <paramref name="boxesAbove"/>, only anchors scoring above it get their box (the others' four floats, a NaN
    /// score's included, are left as they were): the detector's NMS takes only candidates above its score threshold,
    /// and the box's 32 exponentials are most of the decoding, for anchors nearly all far below it.
    /// </para>
    /// </summary>
    /// <param name="classLogits">H×W×1: the class logit c.</param>
    /// <param name="alignLogits">H×W×1: the alignment (quality) logit a.</param>
    /// <param name="regression">H×W×32: channel side·8 + bin, sides left, top, right, bottom.</param>
    public static int DecodeLevel(ReadOnlySpan<float> classLogits, ReadOnlySpan<float> alignLogits, ReadOnlySpan<float> regression,
        int height, int width, int stride, Span<float> boxes, Span<float> scores, float? boxesAbove = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stride);
        int anchors = checked(height * width);
        if (classLogits.Length != anchors) throw new ArgumentException($"expected {height}×{width}×1 = {anchors} class logits, found {classLogits.Length}", nameof(classLogits));
        if (alignLogits.Length != anchors) throw new ArgumentException($"expected {height}×{width}×1 = {anchors} alignment logits, found {alignLogits.Length}", nameof(alignLogits));
        if (regression.Length != checked(anchors * RegressionChannels)) throw new ArgumentException($"expected {height}×{width}×{RegressionChannels} regression logits, found {regression.Length}", nameof(regression));
        if (boxes.Length < checked(anchors * 4)) throw new ArgumentException($"room for {anchors} boxes (4·{anchors} floats) needed, found {boxes.Length}", nameof(boxes));
        if (scores.Length < anchors) throw new ArgumentException($"room for {anchors} scores needed, found {scores.Length}", nameof(scores));

        float s = stride, half = 0.5f * stride;
        for (int i = 0; i < height; i++)
        {
            // The graph builds centres as Range(0, n)·s + s/2; both products are exact in float for any sane size.
            float cy = i * s + half;
            for (int j = 0; j < width; j++)
            {
                int a = i * width + j;
                // No ε under the root: the IR has none (G.12 point 2).
                scores[a] = MathF.Sqrt(Sigmoid(classLogits[a]) * Sigmoid(alignLogits[a]));
                if (boxesAbove is float threshold && !(scores[a] > threshold)) continue;
                float cx = j * s + half;
                var logits = regression.Slice(a * RegressionChannels, RegressionChannels);
                var box = boxes.Slice(a * 4, 4);
                box[0] = cx - s * Expectation(logits[..Bins]);
                box[1] = cy - s * Expectation(logits.Slice(Bins, Bins));
                box[2] = cx + s * Expectation(logits.Slice(2 * Bins, Bins));
                box[3] = cy + s * Expectation(logits.Slice(3 * Bins, Bins));
            }
        }
        return anchors;
    }

    /// <summary>Σ_b softmax(logits)_b · b over the 8 bins, with the maximum subtracted so no exponential overflows.</summary>
    private static float Expectation(ReadOnlySpan<float> logits)
    {
        float max = logits[0];
        for (int b = 1; b < Bins; b++) max = MathF.Max(max, logits[b]);
        float sum = 0, weighted = 0;
        for (int b = 0; b < Bins; b++)
        {
            float e = MathF.Exp(logits[b] - max);
            sum += e;
            weighted += e * b;
        }
        return weighted / sum;
    }

    // exp(−x) overflowing to ∞ for very negative x gives 1/∞ = 0, the right limit.
    private static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    private static void CheckInputSize(int inputHeight, int inputWidth)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputHeight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputWidth);
        // The neck concatenates ×2 upsampled maps with the next finer ones, which needs both sides divisible by 32 (G.7).
        if (inputHeight % 32 != 0 || inputWidth % 32 != 0)
            throw new ArgumentException($"PicoDet needs an input whose sides are multiples of 32, got {inputWidth}×{inputHeight}");
    }
}
