using NanoPose.Models.PicoDet;
using NanoPose.Pipelines.TopDown;

namespace NanoPose.Pipelines.Detection;

/// <summary>
/// From the detector's raw outputs to people (MODELS.md G.6, G.9, G.10): decoded boxes scaled to the image, Paddle's
/// NMS, then the people scoring at least the threshold, best first, clipped to the image. Holds the scratch of one
/// detection so a run allocates only the list it returns; one instance per thread.
/// </summary>
internal sealed class DetectionPostProcessing(int anchors)
{
    private static readonly BoxNmsOptions Nms = new();
    private readonly float[] _boxes = new float[4 * anchors];
    private readonly float[] _scores = new float[anchors];
    private readonly List<DetectedBox> _kept = [];

    /// <param name="inputWidth">The network's input size, the outputs' coordinate frame.</param>
    public List<PersonBox> People(PicoDetOutputs outputs, int inputWidth, int inputHeight, int imageWidth, int imageHeight,
        PersonDetectorOptions options)
    {
        // Only the NMS's candidates need their boxes decoded, scaled and checked; the other anchors' are never read.
        int anchor = PicoDetDecoder.Decode(outputs, _boxes, _scores, boxesAbove: Nms.ScoreThreshold);
        // Boxes to image pixels before NMS, as PaddleDetection divides by the scale factor first (G.9).
        float sx = imageWidth / (float)inputWidth, sy = imageHeight / (float)inputHeight;
        for (int i = 0; i < anchor; i++)
        {
            if (!(_scores[i] > Nms.ScoreThreshold)) continue;
            var box = _boxes.AsSpan(4 * i, 4);
            (box[0], box[1], box[2], box[3]) = (box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy);
            // Paddle's NMS would keep a box with a NaN corner and let it suppress the rest: it is no candidate here.
            if (!float.IsFinite(box[0] + box[1] + box[2] + box[3])) _scores[i] = float.NaN;
        }
        _kept.Clear();
        BoxNms.Run(_boxes.AsSpan(0, 4 * anchor), _scores.AsSpan(0, anchor), Nms, _kept);
        var people = new List<PersonBox>();
        foreach (var box in _kept)
        {
            if (people.Count == options.MaxPeople || !(box.Score >= options.ScoreThreshold)) break;
            double x1 = Math.Clamp(box.X1, 0, imageWidth), y1 = Math.Clamp(box.Y1, 0, imageHeight);
            double x2 = Math.Clamp(box.X2, 0, imageWidth), y2 = Math.Clamp(box.Y2, 0, imageHeight);
            if (x2 - x1 >= 1 && y2 - y1 >= 1) people.Add(new PersonBox(x1, y1, x2 - x1, y2 - y1, box.Score));
        }
        return people;
    }
}
