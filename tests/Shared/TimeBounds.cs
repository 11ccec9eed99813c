using System.Runtime.Intrinsics;

namespace NanoPose.TestSupport;

/// <summary>
/// The time bounds of the hostile families catch hangs and blow-ups, not slowness; CI's scalar leg
/// (DOTNET_EnableHWIntrinsic=0) runs every kernel in software vectors, 5–20× slower, so a bound stretches there.
/// </summary>
public static class TimeBounds
{
    public static double Factor { get; } = Vector128.IsHardwareAccelerated ? 1 : 10;

    public static TimeSpan ForThisLeg(TimeSpan bound) => bound * Factor;
}
