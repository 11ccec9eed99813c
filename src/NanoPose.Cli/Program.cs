using NanoPose.Kernels.Simd;

// The CLI grows with the engine; today it reports what the kernels will run on.
switch (args.FirstOrDefault())
{
    case "isa":
        Console.WriteLine($"vector widths: {Isa.Describe()}");
        Console.WriteLine($"kernels use:   {Isa.Best}");
        return 0;
    default:
        Console.Error.WriteLine("usage: nanopose isa");
        return args.Length == 0 ? 0 : 2;
}
