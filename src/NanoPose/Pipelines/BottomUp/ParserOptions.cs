namespace NanoPose.Pipelines.BottomUp;

/// <summary>
/// HeatmapParser settings; the defaults are the test configuration of HigherHRNet and EfficientHRNet (MODELS.md C).
/// </summary>
public sealed record ParserOptions
{
    /// <summary>Max-pool window of the peak suppression (stride 1, padding (kernel − 1)/2 keeps the map size).</summary>
    public int NmsKernel { get; init; } = 5;

    /// <summary>Candidates per joint kept from the suppressed heatmap, and the most people matched against.</summary>
    public int MaxPeople { get; init; } = 30;

    /// <summary>A candidate must exceed this heatmap value.</summary>
    public double DetectionThreshold { get; init; } = 0.1;

    /// <summary>A candidate joins a person only if its tag is closer than this to the person's mean tag.</summary>
    public double TagThreshold { get; init; } = 1.0;

    /// <summary>Matching cost round(distance)·100 − value instead of the plain distance.</summary>
    public bool UseDetectionValue { get; init; } = true;

    /// <summary>Skip a joint's candidates entirely once <see cref="MaxPeople"/> people exist.</summary>
    public bool IgnoreTooMuch { get; init; }

    /// <summary>Quarter-pixel shift toward the larger neighbour, plus half a pixel.</summary>
    public bool Adjust { get; init; } = true;

    /// <summary>Fill each person's missing joints from the tag-penalised heatmap maximum.</summary>
    public bool Refine { get; init; } = true;

    internal void Validate()
    {
        if (NmsKernel < 1 || NmsKernel % 2 == 0) throw new ArgumentOutOfRangeException(nameof(NmsKernel), NmsKernel, "must be odd and positive");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxPeople);
        if (double.IsNaN(DetectionThreshold)) throw new ArgumentOutOfRangeException(nameof(DetectionThreshold), "must be a number");
        if (double.IsNaN(TagThreshold)) throw new ArgumentOutOfRangeException(nameof(TagThreshold), "must be a number");
    }
}
