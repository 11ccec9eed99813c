using System.Diagnostics;
using System.Globalization;

namespace NanoPose.Cli;

/// <summary>
/// A one-line progress bar redrawn in place (carriage return) on a terminal: done / total, rate and the time left.
/// Redraws at most ten times a second so a fast batch is not slowed by its own display. Created only when the error
/// stream is a terminal; a redirected stream gets the summary alone.
/// </summary>
internal sealed class ProgressBar(TextWriter terminal, int total)
{
    private const int BarWidth = 30;
    private static readonly long RedrawTicks = Stopwatch.Frequency / 10;

    private readonly long _start = Stopwatch.GetTimestamp();
    private long _lastDraw = long.MinValue;
    private int _drawnLength;

    public void Update(int done, int failed)
    {
        long now = Stopwatch.GetTimestamp();
        if (done < total && now - _lastDraw < RedrawTicks) return;
        _lastDraw = now;
        double seconds = Stopwatch.GetElapsedTime(_start, now).TotalSeconds;
        int filled = total == 0 ? BarWidth : (int)((long)BarWidth * done / total);
        string rate = done == 0 || seconds <= 0 ? "" : string.Create(CultureInfo.InvariantCulture, $"  {done / seconds:F1} img/s");
        string left = done == 0 || done == total ? "" : string.Create(CultureInfo.InvariantCulture, $"  {seconds / done * (total - done):F0} s left");
        string failures = failed == 0 ? "" : $"  {failed} failed";
        string line = $"[{new string('#', filled)}{new string('.', BarWidth - filled)}] {done}/{total}{failures}{rate}{left}";
        terminal.Write('\r' + line.PadRight(_drawnLength));
        _drawnLength = line.Length;
        terminal.Flush();
    }

    /// <summary>Clears the bar so the next line starts clean.</summary>
    public void Clear()
    {
        terminal.Write('\r' + new string(' ', _drawnLength) + '\r');
        terminal.Flush();
    }
}
