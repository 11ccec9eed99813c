// nanopose: pose estimation from the command line. Ctrl+C asks a batch to stop cleanly (a second Ctrl+C ends the
// process at once, leaving no temporary file); the progress bar is drawn only when the error stream is a terminal.
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    if (cancel.IsCancellationRequested)
    {
        // The second Ctrl+C: the process ends when this returns, once no file is half-made and no temporary file is left.
        NanoPose.Cli.OutputGuard.StopWriting();
        return;
    }
    e.Cancel = true;
    cancel.Cancel();
};
return NanoPose.Cli.CommandLine.Run(args, Console.Out, Console.Error, showProgress: !Console.IsErrorRedirected, cancel.Token);
