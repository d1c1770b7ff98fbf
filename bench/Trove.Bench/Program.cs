using Trove.Bench;

var mode = args.Length > 0 ? args[0] : "index";
return mode switch
{
    "index" => await IndexBench.RunAsync(args.Skip(1).ToArray()),
    "dupes" => DupesBench.Run(args.Skip(1).ToArray()),
    "import" => ImportBench.Run(args.Skip(1).ToArray()),
    "search" => await SearchBench.RunAsync(args.Skip(1).ToArray()),
    "api" => await ApiBench.RunAsync(args.Skip(1).ToArray()),
    "ml" => await MlBench.RunAsync(args.Skip(1).ToArray()),
    "captions" => await CaptionsBench.RunAsync(args.Skip(1).ToArray()),
    "upscale" => UpscaleBench.Run(args.Skip(1).ToArray()),
    "vectors" => VectorsBench.Run(args.Skip(1).ToArray()),
    "faces" => await FacesBench.RunAsync(args.Skip(1).ToArray()),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Trove.Bench index [--count N] [--durable-count N] [--dir DIR]");
    Console.Error.WriteLine("       Trove.Bench dupes [--count N] [--subset N] [--queries N]");
    Console.Error.WriteLine("       Trove.Bench import [--count N] [--parallel P] [--set DIR]");
    Console.Error.WriteLine("       Trove.Bench search [--count N] [--tags N] [--per-media N] [--queries N] [--batch N] [--dir DIR] [--profile] [--show N]");
    Console.Error.WriteLine("       Trove.Bench api [--count N] [--tags N] [--per-media N] [--real N] [--duration S] [--connections N] [--threads N] [--dir DIR]");
    Console.Error.WriteLine("       Trove.Bench ml [--count N] [--light-channels C] [--heavy-channels C] [--batch N] [--rounds N] [--decode-threads N] [--allow-spinning] [--normal-priority-decode] [--dir DIR]");
    Console.Error.WriteLine("       Trove.Bench captions [--count N] [--concurrency C] [--delay MS] [--rpm R] [--duration S] [--dir DIR]");
    Console.Error.WriteLine("       Trove.Bench vectors [--count N] [--dims D] [--queries N] [--baseline-queries N] [--clusters N]");
    Console.Error.WriteLine("       Trove.Bench faces [--count N] [--channels C] [--rounds N] [--faces N] [--people N] [--queries N] [--dir DIR]");
    Console.Error.WriteLine("       Trove.Bench upscale [--width W] [--height H] [--channels C] [--tiles 192,384] [--format jpeg|png] [--dir DIR]");
    return 2;
}
