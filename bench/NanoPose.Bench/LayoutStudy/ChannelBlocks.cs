namespace NanoPose.Bench.LayoutStudy;

/// <summary>
/// Converts between planar NCHW ([C][H·W]) and channel-blocked NCHWc ([⌈C/block⌉][H·W][block], the last block
/// zero-padded). With block = C this is NHWC. Used only to prepare benchmark data and compare results, never timed:
/// a blocked layout is assumed to be the network-wide layout, so no conversion happens between layers.
/// </summary>
public static class ChannelBlocks
{
    public static int BlockCount(int channels, int block) => (channels + block - 1) / block;

    public static float[] ToBlocked(ReadOnlySpan<float> planar, int channels, int pixels, int block)
    {
        var blocked = new float[BlockCount(channels, block) * pixels * block];
        for (int c = 0; c < channels; c++)
            for (int p = 0; p < pixels; p++)
                blocked[((c / block) * pixels + p) * block + c % block] = planar[c * pixels + p];
        return blocked;
    }

    public static float[] ToPlanar(ReadOnlySpan<float> blocked, int channels, int pixels, int block)
    {
        var planar = new float[channels * pixels];
        for (int c = 0; c < channels; c++)
            for (int p = 0; p < pixels; p++)
                planar[c * pixels + p] = blocked[((c / block) * pixels + p) * block + c % block];
        return planar;
    }
}
