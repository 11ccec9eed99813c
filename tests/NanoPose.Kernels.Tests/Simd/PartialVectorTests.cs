using System.Runtime.Intrinsics;
using NanoPose.Kernels.Simd;

namespace NanoPose.Kernels.Tests.Simd;

/// <summary>
/// LoadFirst and StoreFirst, the masked forms kernels use for channel tails: for every lane count, the first lanes
/// move and nothing past them is read into the vector or written. The memory past the lanes is the end of an array,
/// so a load or store that touched it would also be out of bounds.
/// </summary>
public class PartialVectorTests
{
    [Fact]
    public void V128MovesOnlyTheFirstLanes() => Check<V128, Vector128<float>>();

    [Fact]
    public void V256MovesOnlyTheFirstLanes() => Check<V256, Vector256<float>>();

    [Fact]
    public void V512MovesOnlyTheFirstLanes() => Check<V512, Vector512<float>>();

    private static void Check<TOps, TVec>() where TOps : struct, IVec<TVec> where TVec : struct
    {
        int lanes = TOps.Count;
        var ones = new float[lanes];
        Array.Fill(ones, 1f);
        for (int count = 0; count <= lanes; count++)
        {
            // A source of exactly `count` floats (3, 4, 5 …) at the end of its array.
            var source = Enumerable.Range(0, count).Select(i => i + 3f).ToArray();
            var loaded = new float[lanes];
            TOps.Store(count == 0 ? TOps.Zero : TOps.LoadFirst(ref source[0], count), ref loaded[0]);
            for (int i = 0; i < lanes; i++)
                Assert.True(loaded[i] == (i < count ? i + 3f : 0f), $"{TOps.Width}, count {count}: lane {i} loaded {loaded[i]}");

            // Stored into a slice of a wider buffer whose floats after the slice must stay as they were.
            var destination = new float[count + lanes];
            Array.Fill(destination, -7f);
            if (count > 0) TOps.StoreFirst(TOps.Add(TOps.Load(ref loaded[0]), TOps.Load(ref ones[0])), ref destination[0], count);
            for (int i = 0; i < destination.Length; i++)
                Assert.True(destination[i] == (i < count ? i + 4f : -7f), $"{TOps.Width}, count {count}: float {i} is {destination[i]}");
        }
    }
}
