return NanoPose.Cli.CommandLine.Run(args, Console.Out, Console.Error);
