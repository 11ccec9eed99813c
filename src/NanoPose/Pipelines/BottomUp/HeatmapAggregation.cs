using System.Numerics.Tensors;
using NanoPose.Kernels.Common;
using NanoPose.Kernels.Resize;
using NanoPose.Kernels.Simd;

namespace NanoPose.Pipelines.BottomUp;

/// <summary>
/// Aggregation of the network outputs into what the parser reads (MODELS.md C.2; HigherHRNet
/// <c>get_multi_stage_outputs</c> and <c>aggregate_results</c> with PROJECT2IMAGE, WITH_HEATMAPS (True, True),
/// WITH_AE (True, False)), in the reference's order of float32 operations:
/// <list type="number">
/// <item>the quarter-size output is resized to the half-size one (bilinear, align_corners=False); the heatmaps are
/// (quarter + half) / 2 and the tags are the quarter output's tag maps;</item>
/// <item>for the flipped image, the same after resizing, then mirrored along the width and with channels taken through
/// the flip index (heatmaps and tags);</item>
/// <item>heatmaps and tags are resized to the network input size;</item>
/// <item>the final heatmaps are (heatmaps + flipped heatmaps) / 2; each pixel's tag vector is (tag, flipped tag).</item>
/// </list>
/// Several test scales are then combined by <see cref="CombineScales"/>.
/// </summary>
public static class HeatmapAggregation
{
    /// <summary>
    /// Aggregates the outputs of the network on the image and, when <paramref name="flipped"/> is given, on the image
    /// mirrored horizontally, projected to <paramref name="projectedWidth"/> × <paramref name="projectedHeight"/>: the
    /// network input size (with several test scales, the scale-1 input size). The tag dimension is 2 with flip, 1
    /// without. <paramref name="flipIndex"/> has one entry per joint. With <paramref name="buffers"/>, the arrays of the
    /// previous call with them are reused: the maps returned then hold until the next such call.
    /// </summary>
    public static AggregatedMaps Aggregate(BottomUpOutputs outputs, BottomUpOutputs? flipped, int projectedWidth, int projectedHeight,
        ReadOnlySpan<int> flipIndex, VectorWidth width, AggregationBuffers? buffers = null)
    {
        buffers ??= new AggregationBuffers();
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(projectedWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(projectedHeight);
        int joints = flipIndex.Length;
        RequireShape(outputs, joints, nameof(outputs));
        if (flipped is not null)
        {
            RequireShape(flipped, joints, nameof(flipped));
            if (flipped.Quarter.Height != outputs.Quarter.Height || flipped.Quarter.Width != outputs.Quarter.Width
                || flipped.Half.Height != outputs.Half.Height || flipped.Half.Width != outputs.Half.Width)
                throw new ArgumentException("the flipped outputs must have the sizes of the outputs", nameof(flipped));
            var seen = new bool[joints];
            foreach (int j in flipIndex)
            {
                if ((uint)j >= (uint)joints || seen[j]) throw new ArgumentException($"[{string.Join(", ", flipIndex.ToArray())}] is not a permutation of the {joints} joints", nameof(flipIndex));
                seen[j] = true;
            }
        }

        var (heatmaps, tags) = Project(HalfSizeMaps(outputs, joints, [], width, buffers), projectedWidth, projectedHeight, width,
            buffers, (int)Buffer.Heatmaps, (int)Buffer.Tags);
        int plane = projectedWidth * projectedHeight;
        if (flipped is null) return new AggregatedMaps(joints, projectedHeight, projectedWidth, 1, heatmaps, tags);

        var (flippedHeatmaps, flippedTags) = Project(HalfSizeMaps(flipped, joints, flipIndex, width, buffers), projectedWidth, projectedHeight, width,
            buffers, (int)Buffer.FlippedHeatmaps, (int)Buffer.FlippedTags);
        var combinedTags = buffers.Get((int)Buffer.CombinedTags, 2 * joints * plane);
        for (int i = 0; i < heatmaps.Length; i++)
        {
            heatmaps[i] = (heatmaps[i] + flippedHeatmaps[i]) / 2;
            combinedTags[2 * i] = tags[i];
            combinedTags[2 * i + 1] = flippedTags[i];
        }
        return new AggregatedMaps(joints, projectedHeight, projectedWidth, 2, heatmaps, combinedTags);
    }

    /// <summary>
    /// Several test scales, each aggregated and projected to the scale-1 size, in the order they ran (the reference
    /// runs the largest first): heatmaps summed in that order and divided by the number of scales; tags only from the
    /// scale-1 run (<paramref name="unitScale"/>), as with PROJECT2IMAGE the reference keeps no others. (The reference
    /// then maps people back to the image with the alignment of the scale that ran last, over these maps' size.)
    /// </summary>
    public static AggregatedMaps CombineScales(IReadOnlyList<AggregatedMaps> scales, int unitScale)
    {
        ArgumentNullException.ThrowIfNull(scales);
        if ((uint)unitScale >= (uint)scales.Count) throw new ArgumentOutOfRangeException(nameof(unitScale), unitScale, $"there are {scales.Count} scales");
        var unit = scales[unitScale];
        foreach (var scale in scales)
            if (scale.Joints != unit.Joints || scale.Height != unit.Height || scale.Width != unit.Width)
                throw new ArgumentException($"every scale must be projected to the scale-1 maps' {unit.Joints}×{unit.Height}×{unit.Width}", nameof(scales));

        var heatmaps = (float[])scales[0].Heatmaps.Clone();
        for (int s = 1; s < scales.Count; s++) TensorPrimitives.Add(heatmaps, scales[s].Heatmaps, heatmaps);
        TensorPrimitives.Divide(heatmaps, (float)scales.Count, heatmaps);
        return new AggregatedMaps(unit.Joints, unit.Height, unit.Width, unit.TagDimension, heatmaps, unit.Tags);
    }

    /// <summary>Heatmaps and tags (joints × half-size planes each) of one run: the quarter output resized to half size;
    /// for a flipped run, mirrored back and permuted by <paramref name="flipIndex"/>.</summary>
    private static (ChannelMaps Heatmaps, ChannelMaps Tags) HalfSizeMaps(BottomUpOutputs outputs, int joints, ReadOnlySpan<int> flipIndex,
        VectorWidth width, AggregationBuffers buffers)
    {
        var half = outputs.Half;
        int plane = half.Height * half.Width;
        var quarter = Resize(outputs.Quarter, half.Height, half.Width, width, buffers, (int)Buffer.Quarter);
        var halfData = half.Data;
        bool mirrored = !flipIndex.IsEmpty;
        if (mirrored)
        {
            MirrorRows(quarter.Data, half.Width);
            halfData = buffers.Get((int)Buffer.MirroredHalf, halfData.Length);
            half.Data.CopyTo(halfData, 0);
            MirrorRows(halfData, half.Width);
        }

        var heatmaps = buffers.Get((int)Buffer.HalfHeatmaps, joints * plane);
        var tags = buffers.Get((int)Buffer.HalfTags, joints * plane);
        for (int j = 0; j < joints; j++)
        {
            int source = mirrored ? flipIndex[j] : j;
            var fromQuarter = quarter.Plane(source);
            var fromHalf = halfData.AsSpan(source * plane, plane);
            var destination = heatmaps.AsSpan(j * plane, plane);
            for (int i = 0; i < plane; i++) destination[i] = (fromQuarter[i] + fromHalf[i]) / 2;
            quarter.Plane(joints + source).CopyTo(tags.AsSpan(j * plane, plane));
        }
        return (new ChannelMaps(heatmaps, joints, half.Height, half.Width), new ChannelMaps(tags, joints, half.Height, half.Width));
    }

    private static (float[] Heatmaps, float[] Tags) Project((ChannelMaps Heatmaps, ChannelMaps Tags) maps, int projectedWidth, int projectedHeight,
        VectorWidth width, AggregationBuffers buffers, int heatmaps, int tags) =>
        (Resize(maps.Heatmaps, projectedHeight, projectedWidth, width, buffers, heatmaps).Data,
         Resize(maps.Tags, projectedHeight, projectedWidth, width, buffers, tags).Data);

    /// <summary><c>F.interpolate(bilinear, align_corners=False)</c> of every plane, into the array of <paramref name="slot"/>.</summary>
    private static ChannelMaps Resize(ChannelMaps maps, int height, int width, VectorWidth vectorWidth, AggregationBuffers buffers, int slot)
    {
        var output = buffers.Get(slot, maps.Channels * height * width);
        for (int c = 0; c < maps.Channels; c++)
            BilinearResize.Resize(maps.Plane(c), new Nhwc(maps.Height, maps.Width, 1),
                output.AsSpan(c * height * width, height * width), new Nhwc(height, width, 1), alignCorners: false, vectorWidth);
        return new ChannelMaps(output, maps.Channels, height, width);
    }

    /// <summary>The arrays an aggregation writes, each kept in its slot of <see cref="AggregationBuffers"/>.</summary>
    private enum Buffer { Quarter, MirroredHalf, HalfHeatmaps, HalfTags, Heatmaps, Tags, FlippedHeatmaps, FlippedTags, CombinedTags, Count }

    internal const int BufferCount = (int)Buffer.Count;

    private static void MirrorRows(float[] planes, int width)
    {
        for (int row = 0; row < planes.Length / width; row++) planes.AsSpan(row * width, width).Reverse();
    }

    private static void RequireShape(BottomUpOutputs outputs, int joints, string name)
    {
        ArgumentNullException.ThrowIfNull(outputs.Quarter, name);
        ArgumentNullException.ThrowIfNull(outputs.Half, name);
        if (outputs.Quarter.Channels != 2 * joints)
            throw new ArgumentException($"the quarter-size output must hold {joints} heatmaps and {joints} tag maps, found {outputs.Quarter.Channels} channels", name);
        if (outputs.Half.Channels < joints)
            throw new ArgumentException($"the half-size output must hold at least {joints} heatmaps, found {outputs.Half.Channels} channels", name);
    }
}

/// <summary>
/// The arrays of one <see cref="HeatmapAggregation.Aggregate"/> call, kept for the next: aggregating images of one size
/// again allocates no large arrays. Each is written in full before it is read.
/// </summary>
public sealed class AggregationBuffers
{
    private readonly float[][] _arrays = new float[HeatmapAggregation.BufferCount][];

    /// <summary>The array of <paramref name="slot"/>: the kept one when its length matches, else a new one.</summary>
    internal float[] Get(int slot, int length)
    {
        ref var array = ref _arrays[slot];
        if (array is null || array.Length != length) array = GC.AllocateUninitializedArray<float>(length);
        return array;
    }
}
