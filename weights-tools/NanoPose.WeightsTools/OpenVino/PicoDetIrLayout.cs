using NanoPose.Layers;

namespace NanoPose.WeightsTools.OpenVino;

/// <summary>The op that consumes a convolution's bias <c>Add</c> in the IR.</summary>
public enum IrActivation { None, HSwish, Relu, HardSigmoid, Sigmoid }

/// <summary>
/// One convolution of an IR as the network names it: <see cref="Name"/> is NanoPose's module name, the rest is what the
/// IR must hold for it — the conv layer, its weight <c>Const</c> (as stored: <c>[O, I, k, k]</c>, or
/// <c>[C, 1, 1, k, k]</c> for a depthwise <c>GroupConvolution</c>), stride and symmetric padding, the bias
/// <c>Add</c> and its <c>[1, O, 1, 1]</c> <c>Const</c>, and the op after the bias.
/// </summary>
public sealed record IrConvolution(string Name, string IrLayer, string WeightConst, int[] IrWeightShape, int Stride, int Pad,
    string BiasAdd, string BiasConst, IrActivation Then)
{
    public bool Depthwise => IrWeightShape.Length == 5;
    public int OutChannels => IrWeightShape[0];
    public int InChannelsPerGroup => Depthwise ? 1 : IrWeightShape[1];
    public int Kernel => IrWeightShape[^1];
    /// <summary>PyTorch layout [O, I/G, kh, kw]; the IR's data is already in this order.</summary>
    public int[] WeightShape => [OutChannels, InChannelsPerGroup, Kernel, Kernel];
    /// <summary>The request a network builder makes for this convolution: BatchNorm is already folded into the IR.</summary>
    public ConvRequest Request() => new(Name, OutChannels, InChannelsPerGroup, Kernel, Kernel, HasBias: true, BatchNorm: null);
    public override string ToString() => $"{Name} ({IrLayer}, [{string.Join(", ", IrWeightShape)}], stride {Stride}, pad {Pad}, then {Then})";
}

/// <summary>
/// The 98 convolutions of PicoDet-S LCNet pedestrian (both IR files, which share names and layout), MODELS.md G.14,
/// in structural order: backbone (G.3), neck (G.4), head levels 0–3 (G.5). The names are the contract with the
/// network builder.
/// </summary>
public static class PicoDetIrLayout
{
    public static IReadOnlyList<IrConvolution> Convolutions { get; } =
    [
        Row("backbone.conv1", "Multiply_35283", "Multiply_36130_compressed", [16, 3, 3, 3], 2, 1, "BatchNormalization_0", "Constant_35288_compressed", IrActivation.HSwish),   // 0 BB stem
        Row("backbone.blocks2.0.dw", "Multiply_35293", "Multiply_36145_compressed", [16, 1, 1, 3, 3], 1, 1, "BatchNormalization_1", "Constant_35298_compressed", IrActivation.HSwish),   // 1 BB 1 (blocks2.0) dw
        Row("backbone.blocks2.0.pw", "Multiply_35303", "Multiply_36159_compressed", [24, 16, 1, 1], 1, 0, "BatchNormalization_2", "Constant_35308_compressed", IrActivation.HSwish),   // 2 BB 1 (blocks2.0) pw
        Row("backbone.blocks3.0.dw", "Multiply_35313", "Multiply_36174_compressed", [24, 1, 1, 3, 3], 2, 1, "BatchNormalization_3", "Constant_35318_compressed", IrActivation.HSwish),   // 3 BB 2 (blocks3.0) dw
        Row("backbone.blocks3.0.pw", "Multiply_35323", "Multiply_36188_compressed", [48, 24, 1, 1], 1, 0, "BatchNormalization_4", "Constant_35328_compressed", IrActivation.HSwish),   // 4 BB 2 (blocks3.0) pw
        Row("backbone.blocks3.1.dw", "Multiply_35333", "Multiply_36203_compressed", [48, 1, 1, 3, 3], 1, 1, "BatchNormalization_5", "Constant_35338_compressed", IrActivation.HSwish),   // 5 BB 3 (blocks3.1) dw
        Row("backbone.blocks3.1.pw", "Multiply_35343", "Multiply_36217_compressed", [48, 48, 1, 1], 1, 0, "BatchNormalization_6", "Constant_35348_compressed", IrActivation.HSwish),   // 6 BB 3 (blocks3.1) pw
        Row("backbone.blocks4.0.dw", "Multiply_35353", "Multiply_36232_compressed", [48, 1, 1, 3, 3], 2, 1, "BatchNormalization_7", "Constant_35358_compressed", IrActivation.HSwish),   // 7 BB 4 (blocks4.0) dw
        Row("backbone.blocks4.0.pw", "Multiply_35363", "Multiply_36246_compressed", [96, 48, 1, 1], 1, 0, "BatchNormalization_8", "Constant_35368_compressed", IrActivation.HSwish),   // 8 BB 4 (blocks4.0) pw
        Row("backbone.blocks4.1.dw", "Multiply_35373", "Multiply_36261_compressed", [96, 1, 1, 3, 3], 1, 1, "BatchNormalization_9", "Constant_35378_compressed", IrActivation.HSwish),   // 9 BB 5 (blocks4.1) dw
        Row("backbone.blocks4.1.pw", "Multiply_35383", "Multiply_36275_compressed", [96, 96, 1, 1], 1, 0, "BatchNormalization_10", "Constant_35388_compressed", IrActivation.HSwish),   // 10 BB 5 (blocks4.1) pw
        Row("backbone.blocks5.0.dw", "Multiply_35393", "Multiply_36284_compressed", [96, 1, 1, 3, 3], 2, 1, "BatchNormalization_11", "Constant_35398_compressed", IrActivation.HSwish),   // 11 BB 6 (blocks5.0) dw
        Row("backbone.blocks5.0.pw", "Multiply_35403", "Multiply_36298_compressed", [192, 96, 1, 1], 1, 0, "BatchNormalization_12", "Constant_35408_compressed", IrActivation.HSwish),   // 12 BB 6 (blocks5.0) pw
        Row("backbone.blocks5.1.dw", "Multiply_35413", "Multiply_36313_compressed", [192, 1, 1, 5, 5], 1, 2, "BatchNormalization_13", "Constant_35418_compressed", IrActivation.HSwish),   // 13 BB 7 (blocks5.1) dw
        Row("backbone.blocks5.1.pw", "Multiply_35423", "Multiply_36327_compressed", [192, 192, 1, 1], 1, 0, "BatchNormalization_14", "Constant_35428_compressed", IrActivation.HSwish),   // 14 BB 7 (blocks5.1) pw
        Row("backbone.blocks5.2.dw", "Multiply_35433", "Multiply_36342_compressed", [192, 1, 1, 5, 5], 1, 2, "BatchNormalization_15", "Constant_35438_compressed", IrActivation.HSwish),   // 15 BB 8 (blocks5.2) dw
        Row("backbone.blocks5.2.pw", "Multiply_35443", "Multiply_36356_compressed", [192, 192, 1, 1], 1, 0, "BatchNormalization_16", "Constant_35448_compressed", IrActivation.HSwish),   // 16 BB 8 (blocks5.2) pw
        Row("backbone.blocks5.3.dw", "Multiply_35453", "Multiply_36371_compressed", [192, 1, 1, 5, 5], 1, 2, "BatchNormalization_17", "Constant_35458_compressed", IrActivation.HSwish),   // 17 BB 9 (blocks5.3) dw
        Row("backbone.blocks5.3.pw", "Multiply_35463", "Multiply_36385_compressed", [192, 192, 1, 1], 1, 0, "BatchNormalization_18", "Constant_35468_compressed", IrActivation.HSwish),   // 18 BB 9 (blocks5.3) pw
        Row("backbone.blocks5.4.dw", "Multiply_35473", "Multiply_36400_compressed", [192, 1, 1, 5, 5], 1, 2, "BatchNormalization_19", "Constant_35478_compressed", IrActivation.HSwish),   // 19 BB 10 (blocks5.4) dw
        Row("backbone.blocks5.4.pw", "Multiply_35483", "Multiply_36414_compressed", [192, 192, 1, 1], 1, 0, "BatchNormalization_20", "Constant_35488_compressed", IrActivation.HSwish),   // 20 BB 10 (blocks5.4) pw
        Row("backbone.blocks5.5.dw", "Multiply_35493", "Multiply_36429_compressed", [192, 1, 1, 5, 5], 1, 2, "BatchNormalization_21", "Constant_35498_compressed", IrActivation.HSwish),   // 21 BB 11 (blocks5.5) dw
        Row("backbone.blocks5.5.pw", "Multiply_35503", "Multiply_36443_compressed", [192, 192, 1, 1], 1, 0, "BatchNormalization_22", "Constant_35508_compressed", IrActivation.HSwish),   // 22 BB 11 (blocks5.5) pw
        Row("backbone.blocks6.0.dw", "Multiply_35513", "Multiply_36452_compressed", [192, 1, 1, 5, 5], 2, 2, "BatchNormalization_23", "Constant_35518_compressed", IrActivation.HSwish),   // 23 BB 12 (blocks6.0) dw
        Row("backbone.blocks6.0.se.conv1", "Conv_24", "conv2d_24.w_0_compressed", [48, 192, 1, 1], 1, 0, "Add_24", "Reshape_0_compressed", IrActivation.Relu),   // 24 BB 12 (blocks6.0) SE reduce
        Row("backbone.blocks6.0.se.conv2", "Conv_25", "conv2d_25.w_0_compressed", [192, 48, 1, 1], 1, 0, "Add_25", "Reshape_1_compressed", IrActivation.HardSigmoid),   // 25 BB 12 (blocks6.0) SE expand
        Row("backbone.blocks6.0.pw", "Multiply_35523", "Multiply_36460_compressed", [384, 192, 1, 1], 1, 0, "BatchNormalization_24", "Constant_35528_compressed", IrActivation.HSwish),   // 26 BB 12 (blocks6.0) pw
        Row("backbone.blocks6.1.dw", "Multiply_35533", "Multiply_36475_compressed", [384, 1, 1, 5, 5], 1, 2, "BatchNormalization_25", "Constant_35538_compressed", IrActivation.HSwish),   // 27 BB 13 (blocks6.1) dw
        Row("backbone.blocks6.1.se.conv1", "Conv_28", "conv2d_28.w_0_compressed", [96, 384, 1, 1], 1, 0, "Add_28", "Reshape_2_compressed", IrActivation.Relu),   // 28 BB 13 (blocks6.1) SE reduce
        Row("backbone.blocks6.1.se.conv2", "Conv_29", "conv2d_29.w_0_compressed", [384, 96, 1, 1], 1, 0, "Add_29", "Reshape_3_compressed", IrActivation.HardSigmoid),   // 29 BB 13 (blocks6.1) SE expand
        Row("backbone.blocks6.1.pw", "Multiply_35543", "Multiply_36483_compressed", [384, 384, 1, 1], 1, 0, "BatchNormalization_26", "Constant_35548_compressed", IrActivation.HSwish),   // 30 BB 13 (blocks6.1) pw
        Row("neck.lateral.0", "Multiply_35613", "Multiply_36568_compressed", [96, 96, 1, 1], 1, 0, "BatchNormalization_27", "Constant_35618_compressed", IrActivation.HSwish),   // 31 NK lateral C3 -> L3
        Row("neck.lateral.1", "Multiply_35563", "Multiply_36507_compressed", [96, 192, 1, 1], 1, 0, "BatchNormalization_28", "Constant_35568_compressed", IrActivation.HSwish),   // 32 NK lateral C4 -> L4
        Row("neck.lateral.2", "Multiply_35553", "Multiply_36498_compressed", [96, 384, 1, 1], 1, 0, "BatchNormalization_29", "Constant_35558_compressed", IrActivation.HSwish),   // 33 NK lateral C5 -> L5
        Row("neck.top_down.0.0.dw", "Multiply_35573", "Multiply_36516_compressed", [192, 1, 1, 5, 5], 1, 2, "BatchNormalization_30", "Constant_35578_compressed", IrActivation.HSwish),   // 34 NK TD0 (->T4, s16) DS0 dw
        Row("neck.top_down.0.0.pw", "Multiply_35583", "Multiply_36530_compressed", [192, 192, 1, 1], 1, 0, "BatchNormalization_31", "Constant_35588_compressed", IrActivation.HSwish),   // 35 NK TD0 (->T4, s16) DS0 pw
        Row("neck.top_down.0.1.dw", "Multiply_35593", "Multiply_36545_compressed", [192, 1, 1, 5, 5], 1, 2, "BatchNormalization_32", "Constant_35598_compressed", IrActivation.HSwish),   // 36 NK TD0 (->T4, s16) DS1 dw
        Row("neck.top_down.0.1.pw", "Multiply_35603", "Multiply_36559_compressed", [96, 192, 1, 1], 1, 0, "BatchNormalization_33", "Constant_35608_compressed", IrActivation.HSwish),   // 37 NK TD0 (->T4, s16) DS1 pw
        Row("neck.top_down.1.0.dw", "Multiply_35623", "Multiply_36577_compressed", [192, 1, 1, 5, 5], 1, 2, "BatchNormalization_34", "Constant_35628_compressed", IrActivation.HSwish),   // 38 NK TD1 (->P3, s8) DS0 dw
        Row("neck.top_down.1.0.pw", "Multiply_35633", "Multiply_36591_compressed", [192, 192, 1, 1], 1, 0, "BatchNormalization_35", "Constant_35638_compressed", IrActivation.HSwish),   // 39 NK TD1 (->P3, s8) DS0 pw
        Row("neck.top_down.1.1.dw", "Multiply_35643", "Multiply_36606_compressed", [192, 1, 1, 5, 5], 1, 2, "BatchNormalization_36", "Constant_35648_compressed", IrActivation.HSwish),   // 40 NK TD1 (->P3, s8) DS1 dw
        Row("neck.top_down.1.1.pw", "Multiply_35653", "Multiply_36620_compressed", [96, 192, 1, 1], 1, 0, "BatchNormalization_37", "Constant_35658_compressed", IrActivation.HSwish),   // 41 NK TD1 (->P3, s8) DS1 pw
        Row("neck.down.0.dw", "Multiply_35730", "Multiply_36706_compressed", [96, 1, 1, 5, 5], 2, 2, "BatchNormalization_38", "Constant_35735_compressed", IrActivation.HSwish),   // 42 NK BU0 down (P3) dw s2
        Row("neck.down.0.pw", "Multiply_35740", "Multiply_36720_compressed", [96, 96, 1, 1], 1, 0, "BatchNormalization_39", "Constant_35745_compressed", IrActivation.HSwish),   // 43 NK BU0 down pw
        Row("neck.bottom_up.0.0.dw", "Multiply_35750", "Multiply_36729_compressed", [192, 1, 1, 5, 5], 1, 2, "BatchNormalization_40", "Constant_35755_compressed", IrActivation.HSwish),   // 44 NK BU0 (->P4) DS0 dw
        Row("neck.bottom_up.0.0.pw", "Multiply_35760", "Multiply_36743_compressed", [192, 192, 1, 1], 1, 0, "BatchNormalization_41", "Constant_35765_compressed", IrActivation.HSwish),   // 45 NK BU0 (->P4) DS0 pw
        Row("neck.bottom_up.0.1.dw", "Multiply_35770", "Multiply_36758_compressed", [192, 1, 1, 5, 5], 1, 2, "BatchNormalization_42", "Constant_35775_compressed", IrActivation.HSwish),   // 46 NK BU0 (->P4) DS1 dw
        Row("neck.bottom_up.0.1.pw", "Multiply_35780", "Multiply_36772_compressed", [96, 192, 1, 1], 1, 0, "BatchNormalization_43", "Constant_35785_compressed", IrActivation.HSwish),   // 47 NK BU0 (->P4) DS1 pw
        Row("neck.down.1.dw", "Multiply_35857", "Multiply_36858_compressed", [96, 1, 1, 5, 5], 2, 2, "BatchNormalization_44", "Constant_35862_compressed", IrActivation.HSwish),   // 48 NK BU1 down (P4) dw s2
        Row("neck.down.1.pw", "Multiply_35867", "Multiply_36872_compressed", [96, 96, 1, 1], 1, 0, "BatchNormalization_45", "Constant_35872_compressed", IrActivation.HSwish),   // 49 NK BU1 down pw
        Row("neck.bottom_up.1.0.dw", "Multiply_35877", "Multiply_36881_compressed", [192, 1, 1, 5, 5], 1, 2, "BatchNormalization_46", "Constant_35882_compressed", IrActivation.HSwish),   // 50 NK BU1 (->P5) DS0 dw
        Row("neck.bottom_up.1.0.pw", "Multiply_35887", "Multiply_36895_compressed", [192, 192, 1, 1], 1, 0, "BatchNormalization_47", "Constant_35892_compressed", IrActivation.HSwish),   // 51 NK BU1 (->P5) DS0 pw
        Row("neck.bottom_up.1.1.dw", "Multiply_35897", "Multiply_36910_compressed", [192, 1, 1, 5, 5], 1, 2, "BatchNormalization_48", "Constant_35902_compressed", IrActivation.HSwish),   // 52 NK BU1 (->P5) DS1 dw
        Row("neck.bottom_up.1.1.pw", "Multiply_35907", "Multiply_36924_compressed", [96, 192, 1, 1], 1, 0, "BatchNormalization_49", "Constant_35912_compressed", IrActivation.HSwish),   // 53 NK BU1 (->P5) DS1 pw
        Row("neck.extra_from_lateral.dw", "Multiply_35984", "Multiply_37010_compressed", [96, 1, 1, 5, 5], 2, 2, "BatchNormalization_50", "Constant_35989_compressed", IrActivation.HSwish),   // 54 NK extra A (from L5) dw s2
        Row("neck.extra_from_lateral.pw", "Multiply_35994", "Multiply_37024_compressed", [96, 96, 1, 1], 1, 0, "BatchNormalization_51", "Constant_35999_compressed", IrActivation.HSwish),   // 55 NK extra A pw
        Row("neck.extra_from_output.dw", "Multiply_36004", "Multiply_37033_compressed", [96, 1, 1, 5, 5], 2, 2, "BatchNormalization_52", "Constant_36009_compressed", IrActivation.HSwish),   // 56 NK extra B (from P5) dw s2
        Row("neck.extra_from_output.pw", "Multiply_36014", "Multiply_37047_compressed", [96, 96, 1, 1], 1, 0, "BatchNormalization_53", "Constant_36019_compressed", IrActivation.HSwish),   // 57 NK extra B pw
        Row("head.0.tower.0.dw", "Multiply_35663", "Multiply_36629_compressed", [96, 1, 1, 5, 5], 1, 2, "BatchNormalization_54", "Constant_35668_compressed", IrActivation.HSwish),   // 58 HD L0 (s8) feat dw0
        Row("head.0.tower.0.pw", "Multiply_35673", "Multiply_36643_compressed", [96, 96, 1, 1], 1, 0, "BatchNormalization_55", "Constant_35678_compressed", IrActivation.HSwish),   // 59 HD L0 (s8) feat pw0
        Row("head.0.tower.1.dw", "Multiply_35683", "Multiply_36658_compressed", [96, 1, 1, 5, 5], 1, 2, "BatchNormalization_56", "Constant_35688_compressed", IrActivation.HSwish),   // 60 HD L0 (s8) feat dw1
        Row("head.0.tower.1.pw", "Multiply_35693", "Multiply_36672_compressed", [96, 96, 1, 1], 1, 0, "BatchNormalization_57", "Constant_35698_compressed", IrActivation.HSwish),   // 61 HD L0 (s8) feat pw1
        Row("head.0.se.fc", "Conv_62", "conv2d_62.w_0_compressed", [96, 96, 1, 1], 1, 0, "Add_63", "Reshape_4_compressed", IrActivation.Sigmoid),   // 62 HD L0 (s8) SE fc
        Row("head.0.se.conv", "Multiply_35703", "Multiply_36681_compressed", [96, 96, 1, 1], 1, 0, "BatchNormalization_58", "Constant_35708_compressed", IrActivation.HSwish),   // 63 HD L0 (s8) SE conv
        Row("head.0.cls", "Conv_64", "conv2d_84.w_0_compressed", [1, 96, 1, 1], 1, 0, "Add_65", "Reshape_5_compressed", IrActivation.Sigmoid),   // 64 HD L0 (s8) cls
        Row("head.0.reg", "Conv_65", "conv2d_85.w_0_compressed", [32, 96, 1, 1], 1, 0, "Add_66", "Reshape_6_compressed", IrActivation.None),   // 65 HD L0 (s8) reg
        Row("head.0.align.conv", "Multiply_35713", "Multiply_36683_compressed", [1, 96, 5, 5], 1, 2, "BatchNormalization_59", "Constant_35718_compressed", IrActivation.HSwish),   // 66 HD L0 (s8) align conv5x5
        Row("head.0.align.scale", "Multiply_35723", "Multiply_36697_compressed", [1, 1, 1, 1], 1, 0, "BatchNormalization_60", "Constant_35728_compressed", IrActivation.Sigmoid),   // 67 HD L0 (s8) align pw
        Row("head.1.tower.0.dw", "Multiply_35790", "Multiply_36781_compressed", [96, 1, 1, 5, 5], 1, 2, "BatchNormalization_61", "Constant_35795_compressed", IrActivation.HSwish),   // 68 HD L1 (s16) feat dw0
        Row("head.1.tower.0.pw", "Multiply_35800", "Multiply_36795_compressed", [96, 96, 1, 1], 1, 0, "BatchNormalization_62", "Constant_35805_compressed", IrActivation.HSwish),   // 69 HD L1 (s16) feat pw0
        Row("head.1.tower.1.dw", "Multiply_35810", "Multiply_36810_compressed", [96, 1, 1, 5, 5], 1, 2, "BatchNormalization_63", "Constant_35815_compressed", IrActivation.HSwish),   // 70 HD L1 (s16) feat dw1
        Row("head.1.tower.1.pw", "Multiply_35820", "Multiply_36824_compressed", [96, 96, 1, 1], 1, 0, "BatchNormalization_64", "Constant_35825_compressed", IrActivation.HSwish),   // 71 HD L1 (s16) feat pw1
        Row("head.1.se.fc", "Conv_72", "conv2d_68.w_0_compressed", [96, 96, 1, 1], 1, 0, "Add_80", "Reshape_15_compressed", IrActivation.Sigmoid),   // 72 HD L1 (s16) SE fc
        Row("head.1.se.conv", "Multiply_35830", "Multiply_36833_compressed", [96, 96, 1, 1], 1, 0, "BatchNormalization_65", "Constant_35835_compressed", IrActivation.HSwish),   // 73 HD L1 (s16) SE conv
        Row("head.1.cls", "Conv_74", "conv2d_88.w_0_compressed", [1, 96, 1, 1], 1, 0, "Add_82", "Reshape_16_compressed", IrActivation.Sigmoid),   // 74 HD L1 (s16) cls
        Row("head.1.reg", "Conv_75", "conv2d_89.w_0_compressed", [32, 96, 1, 1], 1, 0, "Add_83", "Reshape_17_compressed", IrActivation.None),   // 75 HD L1 (s16) reg
        Row("head.1.align.conv", "Multiply_35840", "Multiply_36835_compressed", [1, 96, 5, 5], 1, 2, "BatchNormalization_66", "Constant_35845_compressed", IrActivation.HSwish),   // 76 HD L1 (s16) align conv5x5
        Row("head.1.align.scale", "Multiply_35850", "Multiply_36849_compressed", [1, 1, 1, 1], 1, 0, "BatchNormalization_67", "Constant_35855_compressed", IrActivation.Sigmoid),   // 77 HD L1 (s16) align pw
        Row("head.2.tower.0.dw", "Multiply_35917", "Multiply_36933_compressed", [96, 1, 1, 5, 5], 1, 2, "BatchNormalization_68", "Constant_35922_compressed", IrActivation.HSwish),   // 78 HD L2 (s32) feat dw0
        Row("head.2.tower.0.pw", "Multiply_35927", "Multiply_36947_compressed", [96, 96, 1, 1], 1, 0, "BatchNormalization_69", "Constant_35932_compressed", IrActivation.HSwish),   // 79 HD L2 (s32) feat pw0
        Row("head.2.tower.1.dw", "Multiply_35937", "Multiply_36962_compressed", [96, 1, 1, 5, 5], 1, 2, "BatchNormalization_70", "Constant_35942_compressed", IrActivation.HSwish),   // 80 HD L2 (s32) feat dw1
        Row("head.2.tower.1.pw", "Multiply_35947", "Multiply_36976_compressed", [96, 96, 1, 1], 1, 0, "BatchNormalization_71", "Constant_35952_compressed", IrActivation.HSwish),   // 81 HD L2 (s32) feat pw1
        Row("head.2.se.fc", "Conv_82", "conv2d_74.w_0_compressed", [96, 96, 1, 1], 1, 0, "Add_97", "Reshape_26_compressed", IrActivation.Sigmoid),   // 82 HD L2 (s32) SE fc
        Row("head.2.se.conv", "Multiply_35957", "Multiply_36985_compressed", [96, 96, 1, 1], 1, 0, "BatchNormalization_72", "Constant_35962_compressed", IrActivation.HSwish),   // 83 HD L2 (s32) SE conv
        Row("head.2.cls", "Conv_84", "conv2d_92.w_0_compressed", [1, 96, 1, 1], 1, 0, "Add_99", "Reshape_27_compressed", IrActivation.Sigmoid),   // 84 HD L2 (s32) cls
        Row("head.2.reg", "Conv_85", "conv2d_93.w_0_compressed", [32, 96, 1, 1], 1, 0, "Add_100", "Reshape_28_compressed", IrActivation.None),   // 85 HD L2 (s32) reg
        Row("head.2.align.conv", "Multiply_35967", "Multiply_36987_compressed", [1, 96, 5, 5], 1, 2, "BatchNormalization_73", "Constant_35972_compressed", IrActivation.HSwish),   // 86 HD L2 (s32) align conv5x5
        Row("head.2.align.scale", "Multiply_35977", "Multiply_37001_compressed", [1, 1, 1, 1], 1, 0, "BatchNormalization_74", "Constant_35982_compressed", IrActivation.Sigmoid),   // 87 HD L2 (s32) align pw
        Row("head.3.tower.0.dw", "Multiply_36024", "Multiply_37056_compressed", [96, 1, 1, 5, 5], 1, 2, "BatchNormalization_75", "Constant_36029_compressed", IrActivation.HSwish),   // 88 HD L3 (s64) feat dw0
        Row("head.3.tower.0.pw", "Multiply_36034", "Multiply_37070_compressed", [96, 96, 1, 1], 1, 0, "BatchNormalization_76", "Constant_36039_compressed", IrActivation.HSwish),   // 89 HD L3 (s64) feat pw0
        Row("head.3.tower.1.dw", "Multiply_36044", "Multiply_37085_compressed", [96, 1, 1, 5, 5], 1, 2, "BatchNormalization_77", "Constant_36049_compressed", IrActivation.HSwish),   // 90 HD L3 (s64) feat dw1
        Row("head.3.tower.1.pw", "Multiply_36054", "Multiply_37099_compressed", [96, 96, 1, 1], 1, 0, "BatchNormalization_78", "Constant_36059_compressed", IrActivation.HSwish),   // 91 HD L3 (s64) feat pw1
        Row("head.3.se.fc", "Conv_92", "conv2d_80.w_0_compressed", [96, 96, 1, 1], 1, 0, "Add_114", "Reshape_37_compressed", IrActivation.Sigmoid),   // 92 HD L3 (s64) SE fc
        Row("head.3.se.conv", "Multiply_36064", "Multiply_37108_compressed", [96, 96, 1, 1], 1, 0, "BatchNormalization_79", "Constant_36069_compressed", IrActivation.HSwish),   // 93 HD L3 (s64) SE conv
        Row("head.3.cls", "Conv_94", "conv2d_96.w_0_compressed", [1, 96, 1, 1], 1, 0, "Add_116", "Reshape_38_compressed", IrActivation.Sigmoid),   // 94 HD L3 (s64) cls
        Row("head.3.reg", "Conv_95", "conv2d_97.w_0_compressed", [32, 96, 1, 1], 1, 0, "Add_117", "Reshape_39_compressed", IrActivation.None),   // 95 HD L3 (s64) reg
        Row("head.3.align.conv", "Multiply_36074", "Multiply_37110_compressed", [1, 96, 5, 5], 1, 2, "BatchNormalization_80", "Constant_36079_compressed", IrActivation.HSwish),   // 96 HD L3 (s64) align conv5x5
        Row("head.3.align.scale", "Multiply_36084", "Multiply_37124_compressed", [1, 1, 1, 1], 1, 0, "BatchNormalization_81", "Constant_36089_compressed", IrActivation.Sigmoid),   // 97 HD L3 (s64) align pw
    ];

    private static IrConvolution Row(string name, string irLayer, string weightConst, int[] irWeightShape, int stride, int pad,
        string biasAdd, string biasConst, IrActivation then) => new(name, irLayer, weightConst, irWeightShape, stride, pad, biasAdd, biasConst, then);
}
