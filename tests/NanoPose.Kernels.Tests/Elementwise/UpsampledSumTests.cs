using NanoPose.Kernels.Common;
using NanoPose.Kernels.Elementwise;
using NanoPose.Kernels.Resize;
using NanoPose.Kernels.Simd;
using NanoPose.Kernels.Tests.Infrastructure;
using static NanoPose.Kernels.Tests.Infrastructure.ViewBuffers;

namespace NanoPose.Kernels.Tests.Elementwise;

public class UpsampledSumTests
{
    [Fact]
    public void ReferenceComputesByHand()
    {
        // 2×4 map, one channel; a 1×2 term upsampled ×2 (columns 0, 0, 1, 1 of both rows); the input doubled, then ReLU.
        var view = new Nhwc(2, 4, 1);
        var output = new float[8];
        var sum = new float[8];
        UpsampledSum.Reference([1, -2, 3, -4, 5, 6, 7, 8], view, new UpsampledTerms([10, -100], new Nhwc(1, 2, 1)), output, view,
            doubleInput: true, Activation.ReLU, sum, view);
        Assert.Equal([12f, 6, 0, 0, 20, 22, 0, 0], output);
        Assert.Equal([12f, 6, -94, -108, 20, 22, -86, -84], sum);
    }

    /// <summary>The reference against the sum written out: every term upsampled by NearestResize, then added in order.</summary>
    [Fact]
    public void ReferenceEqualsUpsamplingThenAddingInOrder()
    {
        var view = View(8, 8, 5);
        var input = Random(view, 1);
        var lows = new[] { (View(4, 4, 5, 2), 2), (View(2, 2, 5), 4), (View(1, 1, 5, 1), 8) };
        var maps = lows.Select((l, k) => Random(l.Item1, 10 + k)).ToArray();
        var expected = new float[view.RequiredLength];
        Arithmetic.AddReference(input, view, input, view, expected, view);
        for (int k = 0; k < 3; k++)
        {
            var upsampled = new float[view.RequiredLength];
            NearestResize.UpsampleByFactor(maps[k], lows[k].Item1, upsampled, view, lows[k].Item2, lows[k].Item2, VectorWidth.Scalar);
            Arithmetic.AddReference(expected, view, upsampled, view, expected, view);
        }
        var output = new float[view.RequiredLength];
        var terms = new UpsampledTerms(maps[0], lows[0].Item1, maps[1], lows[1].Item1, maps[2], lows[2].Item1);
        UpsampledSum.Reference(input, view, terms, output, view, doubleInput: true);
        Tolerance.AssertExact(expected, output, "three terms, doubled input");
    }

    [Theory]
    [MemberData(nameof(TestData.VectorWidths), MemberType = typeof(TestData))]
    public void EveryWidthMatchesTheReferenceExactly(VectorWidth width)
    {
        int cases = 0;
        foreach (int channels in new[] { 1, 7, 16, 20, 33, 40 })
            foreach (int count in new[] { 0, 1, 2, 3 })
                foreach (bool doubleInput in new[] { false, true })
                    foreach (var activation in new[] { Activation.None, Activation.ReLU })
                        foreach (var (padding, inPlace, writesSum) in new[] { (0, false, false), (3, false, true), (0, true, true), (1, true, false) })
                        {
                            var view = View(16, 8, channels, padding);
                            var input = Random(view, channels + count);
                            var maps = new float[count][];
                            var views = new Nhwc[count];
                            for (int k = 0; k < count; k++)
                            {
                                int factor = 2 << k;   // 2, 4, 8
                                views[k] = View(16 / factor, 8 / factor, channels, k);
                                maps[k] = Random(views[k], 100 + k);
                            }
                            var terms = count switch
                            {
                                0 => default,
                                1 => new UpsampledTerms(maps[0], views[0]),
                                2 => new UpsampledTerms(maps[0], views[0], maps[1], views[1]),
                                _ => new UpsampledTerms(maps[0], views[0], maps[1], views[1], maps[2], views[2]),
                            };
                            var output = inPlace ? input : Random(view, 7);
                            var sum = writesSum ? Random(view, 8) : [];
                            var (expected, expectedSum) = (Copy(output), Copy(sum));
                            UpsampledSum.Reference(Copy(input), view, terms, expected, view, doubleInput, activation, expectedSum, writesSum ? view : default);
                            UpsampledSum.Run(input, view, terms, output, view, width, doubleInput, activation, sum, writesSum ? view : default);
                            string what = $"{count} terms, {channels} channels, double {doubleInput}, {activation}, padding {padding}, in place {inPlace}";
                            Tolerance.AssertExact(expected, output, what);
                            Tolerance.AssertExact(expectedSum, sum, what + ", sum");
                            cases++;
                        }
        Assert.Equal(6 * 4 * 2 * 2 * 4, cases);
    }

    [Fact]
    public void BadOperandsAreRefusedByName()
    {
        var view = new Nhwc(4, 4, 3);
        var input = new float[view.RequiredLength];
        var output = new float[view.RequiredLength];
        var odd = new Nhwc(3, 3, 3);   // 4/3 is no integer factor
        var error = Assert.Throws<ArgumentException>(() =>
            UpsampledSum.Run(input, view, new UpsampledTerms(new float[odd.RequiredLength], odd), output, view, VectorWidth.Scalar));
        Assert.Contains("terms[0]", error.Message);
        var narrow = new Nhwc(2, 2, 2);   // channels differ
        error = Assert.Throws<ArgumentException>(() =>
            UpsampledSum.Run(input, view, new UpsampledTerms(new float[narrow.RequiredLength], narrow), output, view, VectorWidth.Scalar));
        Assert.Contains("terms[0]", error.Message);
        error = Assert.Throws<ArgumentException>(() =>
            UpsampledSum.Run(input, view, default, output, view, VectorWidth.Scalar, activation: Activation.Sigmoid));
        Assert.Contains("activation", error.Message);
        error = Assert.Throws<ArgumentException>(() =>
            UpsampledSum.Run(input, view, default, output, view, VectorWidth.Scalar, sum: new float[5], sumView: view));
        Assert.Contains("sum", error.Message);
    }
}
