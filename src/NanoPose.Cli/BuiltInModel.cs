using NanoPose.Models;
using NanoPose.Weights;

namespace NanoPose.Cli;

/// <summary>
/// The model <c>nanopose</c> uses when no <c>--model</c> is given: PP-TinyPose 256×192 (a wider-naive Lite-HRNet-18
/// trained by PaddleDetection), converted with <c>nanopose-weights convert … --fp16</c> from the ncnn files in
/// <c>../shared/models/pp-tinypose/</c> and embedded in NanoPose.Models (2.7 MB), so in the binary. A test checks it
/// is byte for byte a fresh conversion of those files.
/// </summary>
internal static class BuiltInModel
{
    public const string Name = BuiltInModels.PoseModelName;

    public const string Notice = BuiltInModels.PoseModelNotice;

    /// <summary>The embedded .npw file's bytes.</summary>
    public static byte[] Bytes() => BuiltInModels.PoseModelBytes();

    /// <summary>The file at <paramref name="path"/>, or the built-in model when it is null.</summary>
    public static NpwFile LoadOr(string? path) => path is null ? BuiltInModels.PoseModel() : LoadFile(path, "model");

    /// <summary>A .npw file named on the command line: refused by name unless it is a regular file, and an
    /// arithmetic overflow while reading it blamed on the file (its sizes), not reported as an internal error.</summary>
    /// <param name="what">What the file is to the command ("model", "detector"), for the message.</param>
    public static NpwFile LoadFile(string path, string what)
    {
        FilePaths.RequireRegularFile(path, what);
        try { return NpwFile.Load(path); }
        catch (OverflowException e) { throw new WeightFileException(path, $"a size or count in the {what} file is out of range ({e.Message})"); }
    }
}
