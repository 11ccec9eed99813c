namespace NanoPose.Pipelines.TopDown;

/// <summary>A decoded keypoint: position (heatmap or image pixels, as the producer says) and its heatmap maximum.</summary>
public readonly record struct Keypoint(float X, float Y, float Score);
