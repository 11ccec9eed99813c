using NanoPose.Weights;
using NanoPose.WeightsTools;
using NanoPose.WeightsTools.Checkpoints;

// nanopose-weights: today `inspect`; `convert` arrives with the models.
try
{
    switch (args)
    {
        case ["inspect", string file]:
            Inspect.Run(file, Console.Out);
            return 0;
        default:
            Console.Error.WriteLine("usage: nanopose-weights inspect <file.pth|file.npw>");
            return 2;
    }
}
catch (Exception e) when (e is CheckpointException or WeightFileException or IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
