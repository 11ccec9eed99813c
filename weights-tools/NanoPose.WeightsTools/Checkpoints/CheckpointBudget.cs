namespace NanoPose.WeightsTools.Checkpoints;

/// <summary>
/// The memory one checkpoint may make the loader allocate: <see cref="BaseBytes"/> + <see cref="BytesPerFileByte"/> ×
/// the file's size. Everything the loader allocates after the file is in memory counts — inflated zip entries
/// (data.pkl and storages), the objects the unpickler builds for every opcode, each storage (read once, however many
/// tensors view it) and each tensor's float32 copy — as the runtime's allocation counter for this thread measures it.
/// Large allocations are checked before they are made (<see cref="Reserve"/>); the small objects of one opcode at the
/// next opcode, so the overshoot is one opcode's worth.
/// </summary>
/// <remarks>
/// A real checkpoint stores its tensors uncompressed (torch.save), so its storages take about its size and their
/// float32 copies at most 4× that (int8 and bool widen fourfold; fp16 twofold): 8× covers it with room for the pickle's
/// objects. A file that asks for more is refused by name before the memory is taken; the 64 MiB floor keeps small
/// files of many tiny tensors loadable.
/// </remarks>
internal sealed class CheckpointBudget(long fileBytes, string source)
{
    public const long BaseBytes = 64L << 20;
    public const int BytesPerFileByte = 8;

    private readonly long _start = GC.GetAllocatedBytesForCurrentThread();

    public long Limit { get; } = BaseBytes + BytesPerFileByte * fileBytes;

    /// <summary>Bytes allocated on this thread since the budget was opened.</summary>
    public long Used => GC.GetAllocatedBytesForCurrentThread() - _start;

    /// <summary>Whether <paramref name="bytes"/> more stay within the limit.</summary>
    public bool Allows(long bytes) => bytes <= Limit - Used;

    /// <summary>Refuses, naming <paramref name="what"/>, when <paramref name="bytes"/> more would pass the limit.</summary>
    public void Reserve(long bytes, string what)
    {
        if (!Allows(bytes)) throw Refusal(bytes, what);
    }

    public CheckpointException Refusal(long bytes, string what)
    {
        long used = Used;
        string need = bytes == 0 ? $"{what} take {used} bytes" : $"{what} would need {bytes} bytes more than the {used} already used";
        return new(source, $"{need}, beyond the memory budget of a {fileBytes}-byte checkpoint: {Limit} bytes ({BaseBytes >> 20} MiB + {BytesPerFileByte} × its size)");
    }
}
