using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using NanoPose.Kernels.Common;
using NanoPose.Kernels.DataMovement;
using NanoPose.Kernels.Simd;

namespace NanoPose.Kernels.Elementwise;

/// <summary>
/// Up to three low-resolution maps for <see cref="UpsampledSum"/>, each added nearest-upsampled by the integer factor
/// its size implies (an HRNet fuse output's terms from its lower-resolution branches).
/// </summary>
public readonly ref struct UpsampledTerms
{
    public const int MaxCount = 3;

    private readonly ReadOnlySpan<float> _first, _second, _third;
    private readonly Nhwc _firstView, _secondView, _thirdView;

    public UpsampledTerms(ReadOnlySpan<float> first, Nhwc firstView)
    {
        _first = first;
        _firstView = firstView;
        Count = 1;
    }

    public UpsampledTerms(ReadOnlySpan<float> first, Nhwc firstView, ReadOnlySpan<float> second, Nhwc secondView) : this(first, firstView)
    {
        _second = second;
        _secondView = secondView;
        Count = 2;
    }

    public UpsampledTerms(ReadOnlySpan<float> first, Nhwc firstView, ReadOnlySpan<float> second, Nhwc secondView,
        ReadOnlySpan<float> third, Nhwc thirdView) : this(first, firstView, second, secondView)
    {
        _third = third;
        _thirdView = thirdView;
        Count = 3;
    }

    /// <summary>How many terms there are (0 for <c>default</c>).</summary>
    public int Count { get; }

    public ReadOnlySpan<float> Map(int k) => k switch { 0 => _first, 1 => _second, 2 => _third, _ => throw new ArgumentOutOfRangeException(nameof(k)) };
    public Nhwc View(int k) => k switch { 0 => _firstView, 1 => _secondView, 2 => _thirdView, _ => throw new ArgumentOutOfRangeException(nameof(k)) };
}

/// <summary>
/// One pass for a whole HRNet fuse sum over a map's own resolution:
/// <code>
///   sum[y, x, c]    = ((input (+ input)) + t1[y/f1, x/f1, c]) + t2[y/f2, x/f2, c] + …     (the reference's order)
///   output[y, x, c] = act(sum[y, x, c])                                                     (act: none or ReLU)
/// </code>
/// where each f = input size / term size is an integer (<c>nn.Upsample(scale_factor=f, mode='nearest')</c>), without
/// the upsampled intermediates. <c>doubleInput</c> is Lite-HRNet's branch-0 sum, which counts its own term twice. The
/// pre-activation sum can be written to a second map as well (Lite-HRNet's other outputs read the fused branch 0
/// before its ReLU). output may be input itself (same span, same view); any other overlap is undefined. One add per
/// term in the same order at every width, so every width is bit-identical to the reference.
/// </summary>
public static class UpsampledSum
{
    public static void Run(ReadOnlySpan<float> input, Nhwc inputView, UpsampledTerms terms, Span<float> output, Nhwc outputView,
        VectorWidth width, bool doubleInput = false, Activation activation = Activation.None, Span<float> sum = default, Nhwc sumView = default)
    {
        bool writesSum = Validate(input, inputView, terms, output, outputView, activation, sum, sumView);
        if (outputView.RequiredLength == 0) return;
        switch (width)
        {
            case VectorWidth.Scalar: Reference(input, inputView, terms, output, outputView, doubleInput, activation, sum, sumView); break;
            case VectorWidth.V128: Body<V128, Vector128<float>>(input, inputView, terms, output, outputView, doubleInput, activation, writesSum, sum, sumView); break;
            case VectorWidth.V256: Body<V256, Vector256<float>>(input, inputView, terms, output, outputView, doubleInput, activation, writesSum, sum, sumView); break;
            case VectorWidth.V512: Body<V512, Vector512<float>>(input, inputView, terms, output, outputView, doubleInput, activation, writesSum, sum, sumView); break;
            default: throw new ArgumentOutOfRangeException(nameof(width), width, "unknown vector width");
        }
    }

    /// <summary>The plain loops of the definition; the vector bodies must match it bit for bit.</summary>
    public static void Reference(ReadOnlySpan<float> input, Nhwc inputView, UpsampledTerms terms, Span<float> output, Nhwc outputView,
        bool doubleInput = false, Activation activation = Activation.None, Span<float> sum = default, Nhwc sumView = default)
    {
        bool writesSum = Validate(input, inputView, terms, output, outputView, activation, sum, sumView);
        for (int y = 0; y < inputView.Height; y++)
            for (int x = 0; x < inputView.Width; x++)
                for (int c = 0; c < inputView.Channels; c++)
                {
                    float v = input[inputView.Offset(y, x) + c];
                    if (doubleInput) v += v;
                    for (int k = 0; k < terms.Count; k++)
                    {
                        var view = terms.View(k);
                        int factor = inputView.Height / view.Height;
                        v += terms.Map(k)[view.Offset(y / factor, x / factor) + c];
                    }
                    if (writesSum) sum[sumView.Offset(y, x) + c] = v;
                    output[outputView.Offset(y, x) + c] = Activations.Apply(v, activation);
                }
    }

    static readonly string[] TermNames = ["terms[0]", "terms[1]", "terms[2]"];

    /// <summary>Checks every operand; returns whether the pre-activation sum is written.</summary>
    static bool Validate(ReadOnlySpan<float> input, Nhwc inputView, UpsampledTerms terms, Span<float> output, Nhwc outputView,
        Activation activation, Span<float> sum, Nhwc sumView)
    {
        inputView.Validate(input.Length, nameof(input));
        outputView.Validate(output.Length, nameof(output));
        ViewChecks.RequireSameShape(inputView, outputView, nameof(outputView));
        if (activation is not (Activation.None or Activation.ReLU))
            throw new ArgumentException($"{nameof(activation)}: {activation} is not supported here, expected None or ReLU.", nameof(activation));
        for (int k = 0; k < terms.Count; k++)
        {
            var view = terms.View(k);
            view.Validate(terms.Map(k).Length, TermNames[k]);   // constant names: a valid call allocates nothing
            if (view.Channels != inputView.Channels || view.Height < 1 || view.Width < 1
                || inputView.Height % view.Height != 0 || inputView.Height / view.Height != inputView.Width / view.Width
                || inputView.Width % view.Width != 0)
                throw new ArgumentException($"terms[{k}]: is {view}, expected {inputView.Channels} channels and {inputView.Height}×{inputView.Width} divided by one integer factor.", nameof(terms));
        }
        bool writesSum = !sum.IsEmpty || sumView != default;
        if (writesSum)
        {
            sumView.Validate(sum.Length, nameof(sum));
            ViewChecks.RequireSameShape(inputView, sumView, nameof(sumView));
        }
        return writesSum;
    }

    static void Body<TOps, TVec>(ReadOnlySpan<float> input, Nhwc inputView, UpsampledTerms terms, Span<float> output, Nhwc outputView,
        bool doubleInput, Activation activation, bool writesSum, Span<float> sum, Nhwc sumView)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        int count = terms.Count, channels = inputView.Channels, lanes = TOps.Count, last = channels - lanes;
        bool relu = activation == Activation.ReLU;
        // Absent terms point at the input and are never read.
        ref float inputStart = ref MemoryMarshal.GetReference(input);
        ref float t1 = ref count > 0 ? ref MemoryMarshal.GetReference(terms.Map(0)) : ref inputStart;
        ref float t2 = ref count > 1 ? ref MemoryMarshal.GetReference(terms.Map(1)) : ref inputStart;
        ref float t3 = ref count > 2 ? ref MemoryMarshal.GetReference(terms.Map(2)) : ref inputStart;
        var (v1, v2, v3) = (count > 0 ? terms.View(0) : inputView, count > 1 ? terms.View(1) : inputView, count > 2 ? terms.View(2) : inputView);
        int f1 = inputView.Height / v1.Height, f2 = inputView.Height / v2.Height, f3 = inputView.Height / v3.Height;
        ref float sumStart = ref writesSum ? ref MemoryMarshal.GetReference(sum) : ref MemoryMarshal.GetReference(output);
        ref float outputStart = ref MemoryMarshal.GetReference(output);
        for (int y = 0; y < inputView.Height; y++)
        {
            // Each term's pixel moves on every f-th output pixel: counters, not a division per pixel.
            int o1 = v1.Offset(y / f1, 0), o2 = v2.Offset(y / f2, 0), o3 = v3.Offset(y / f3, 0), k1 = 0, k2 = 0, k3 = 0;
            for (int x = 0; x < inputView.Width; x++)
            {
                ref float pi = ref Unsafe.Add(ref inputStart, inputView.Offset(y, x));
                ref float p1 = ref Unsafe.Add(ref t1, o1);
                ref float p2 = ref Unsafe.Add(ref t2, o2);
                ref float p3 = ref Unsafe.Add(ref t3, o3);
                ref float ps = ref Unsafe.Add(ref sumStart, writesSum ? sumView.Offset(y, x) : 0);
                ref float po = ref Unsafe.Add(ref outputStart, outputView.Offset(y, x));
                if (++k1 == f1) (k1, o1) = (0, o1 + v1.PixelStride);
                if (++k2 == f2) (k2, o2) = (0, o2 + v2.PixelStride);
                if (++k3 == f3) (k3, o3) = (0, o3 + v3.PixelStride);
                if (channels < lanes)
                {
                    var v = TOps.LoadFirst(ref pi, channels);
                    if (doubleInput) v = TOps.Add(v, v);
                    if (count > 0) v = TOps.Add(v, TOps.LoadFirst(ref p1, channels));
                    if (count > 1) v = TOps.Add(v, TOps.LoadFirst(ref p2, channels));
                    if (count > 2) v = TOps.Add(v, TOps.LoadFirst(ref p3, channels));
                    if (writesSum) TOps.StoreFirst(v, ref ps, channels);
                    TOps.StoreFirst(relu ? TOps.Max(v, TOps.Zero) : v, ref po, channels);
                    continue;
                }
                // The tail vector (overlapping the previous one) is computed before any store, for the in-place case.
                var tail = Sum<TOps, TVec>(ref pi, ref p1, ref p2, ref p3, last, count, doubleInput);
                for (int c = 0; c < last; c += lanes)
                {
                    var v = Sum<TOps, TVec>(ref pi, ref p1, ref p2, ref p3, c, count, doubleInput);
                    if (writesSum) TOps.Store(v, ref Unsafe.Add(ref ps, c));
                    TOps.Store(relu ? TOps.Max(v, TOps.Zero) : v, ref Unsafe.Add(ref po, c));
                }
                if (writesSum) TOps.Store(tail, ref Unsafe.Add(ref ps, last));
                TOps.Store(relu ? TOps.Max(tail, TOps.Zero) : tail, ref Unsafe.Add(ref po, last));
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static TVec Sum<TOps, TVec>(ref float pi, ref float p1, ref float p2, ref float p3, int c, int count, bool doubleInput)
        where TOps : struct, IVec<TVec> where TVec : struct
    {
        var v = TOps.Load(ref Unsafe.Add(ref pi, c));
        if (doubleInput) v = TOps.Add(v, v);
        if (count > 0) v = TOps.Add(v, TOps.Load(ref Unsafe.Add(ref p1, c)));
        if (count > 1) v = TOps.Add(v, TOps.Load(ref Unsafe.Add(ref p2, c)));
        if (count > 2) v = TOps.Add(v, TOps.Load(ref Unsafe.Add(ref p3, c)));
        return v;
    }
}
