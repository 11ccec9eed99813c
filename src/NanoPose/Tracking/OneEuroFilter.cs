namespace NanoPose.Tracking;

/// <summary>
/// The One-Euro filter's parameters (Casiez, Roussel and Vogel, CHI 2012): an exponential low-pass whose cutoff rises
/// with speed, so a still keypoint is smoothed hard and a moving one follows with little lag. Speed here is measured
/// in person sizes per second (the pixel speed over the larger side of the person's box), so one setting suits people
/// near and far.
/// <para>
/// Cutoff = <see cref="MinCutoff"/> + <see cref="Beta"/> × |speed|, with the speed low-passed at
/// <see cref="DerivativeCutoff"/>. At a constant speed of v pixels per second on a person s pixels tall, the smoothed
/// keypoint trails the raw one by v / (2π (MinCutoff + Beta·v/s)) pixels once the filter has settled: never more than
/// s / (2π·Beta), 3.2 % of the person's size with the defaults (2.7 % at one person size per second).
/// </para>
/// </summary>
public sealed record OneEuroParameters
{
    /// <summary>Cutoff frequency in Hz when still (default 1): lower smooths more and lags more on slow motion.</summary>
    public double MinCutoff { get; init => field = Positive(value, nameof(MinCutoff)); } = 1.0;

    /// <summary>Cutoff added per person size per second of speed (default 5): higher lags less on fast motion.</summary>
    public double Beta { get; init => field = value >= 0 && double.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(nameof(Beta), value, "Beta is a finite number ≥ 0"); } = 5.0;

    /// <summary>Cutoff frequency in Hz of the speed estimate (default 1, the paper's).</summary>
    public double DerivativeCutoff { get; init => field = Positive(value, nameof(DerivativeCutoff)); } = 1.0;

    /// <summary>The most the filter trails a constant speed, as a fraction of the person's size: 1 / (2π·Beta).</summary>
    public double MaxLagFraction => 1 / (2 * Math.PI * Beta);

    private static double Positive(double value, string name) =>
        value > 0 && double.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(name, value, "a cutoff is a finite frequency above 0 Hz");
}

/// <summary>One coordinate's One-Euro filter state (see <see cref="OneEuroParameters"/>).</summary>
internal struct OneEuroFilter
{
    private double _raw, _smoothed, _speed;
    private bool _started;

    /// <summary>The smoothed value of <paramref name="value"/>, <paramref name="seconds"/> after the previous one, for a
    /// person of <paramref name="scale"/> pixels. The speed is taken from the previous raw value, so at a constant speed
    /// the speed estimate settles on the true speed and the lag on the value documented.</summary>
    public double Filter(double value, double seconds, double scale, OneEuroParameters parameters)
    {
        if (!_started || !(seconds > 0))
        {
            (_raw, _smoothed, _speed, _started) = (value, value, 0, true);
            return value;
        }
        double speed = (value - _raw) / seconds;
        _speed += Alpha(parameters.DerivativeCutoff, seconds) * (speed - _speed);
        double cutoff = parameters.MinCutoff + parameters.Beta * Math.Abs(_speed) / Math.Max(scale, 1);
        _smoothed += Alpha(cutoff, seconds) * (value - _smoothed);
        _raw = value;
        return _smoothed;
    }

    /// <summary>The exponential filter's weight of the new value for a cutoff: 1 / (1 + τ/T), τ = 1/(2π·cutoff).</summary>
    private static double Alpha(double cutoff, double seconds) => 1 / (1 + 1 / (2 * Math.PI * cutoff * seconds));
}
