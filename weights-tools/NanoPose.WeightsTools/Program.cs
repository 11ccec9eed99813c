using NanoPose.WeightsTools;

return CommandLine.Run(args, Console.Out, Console.Error);
