// Moroccan names for the generator: each Arabic spelling with the Latin transliterations seen for it in real records, most common first.

/** One name: its Arabic spelling and its Latin spellings (the first is the most frequent). */
export interface NameForms {
  readonly arabic: string;
  readonly latin: readonly string[];
}

const n = (arabic: string, ...latin: string[]): NameForms => ({ arabic, latin });

/** Male first names, roughly by frequency. محمد and امحمد are different names (Mohamed ≠ M'hamed). */
export const MALE_FIRST_NAMES: readonly NameForms[] = [
  n('محمد', 'Mohamed', 'Mohammed', 'Muhammad', 'Mohamad'),
  n('أحمد', 'Ahmed', 'Ahmad', 'Ahmet'),
  n('يوسف', 'Youssef', 'Yousef', 'Youssouf', 'Youcef'),
  n('عبد الله', 'Abdellah', 'Abdallah', 'Abdullah'),
  n('رشيد', 'Rachid', 'Rashid'),
  n('امحمد', "M'hamed", 'Mhamed', 'Mhammed', 'Amhamed'),
  n('سعيد', 'Said', 'Saïd'),
  n('حسن', 'Hassan', 'Hasan'),
  n('خالد', 'Khalid', 'Khaled'),
  n('عبد القادر', 'Abdelkader', 'Abdelqader', 'Abd El Kader', 'Abdel Kader', 'Abdelkadir'),
  n('مصطفى', 'Mustapha', 'Moustapha', 'Mostafa', 'Mustafa'),
  n('إبراهيم', 'Brahim', 'Ibrahim', 'Ebrahim'),
  n('إدريس', 'Driss', 'Idriss', 'Idris'),
  n('كريم', 'Karim'),
  n('هشام', 'Hicham', 'Hisham', 'Hichame'),
  n('عمر', 'Omar', 'Oumar'),
  n('علي', 'Ali'),
  n('حميد', 'Hamid'),
  n('سعد', 'Saad'),
  n('حسين', 'Houssine', 'Hussein', 'Houcine'),
  n('عثمان', 'Othmane', 'Otmane', 'Outmane', 'Osman'),
  n('المهدي', 'El Mehdi', 'Mehdi', 'Mahdi'),
  n('أيوب', 'Ayoub', 'Ayyoub'),
  n('أمين', 'Amine', 'Amin'),
  n('ياسين', 'Yassine', 'Yacine', 'Yasin'),
  n('زكرياء', 'Zakaria', 'Zakariya', 'Zakariae'),
  n('سفيان', 'Soufiane', 'Sofiane', 'Sufyan'),
  n('إسماعيل', 'Ismail', 'Smail', 'Ismael'),
  n('عبد الرحيم', 'Abderrahim', 'Abderahim', 'Abdel Rahim', 'Abdelrahim'),
  n('نور الدين', 'Noureddine', 'Nour Eddine', 'Nourredine'),
  n('جمال', 'Jamal', 'Jamel', 'Djamal'),
  n('عادل', 'Adil', 'Adel'),
  n('طارق', 'Tarik', 'Tariq', 'Tarek'),
  n('بوشعيب', 'Bouchaib', 'Bouchaïb'),
  n('العربي', 'Larbi', 'El Arbi'),
  n('محمود', 'Mahmoud', 'Mahmud'),
  n('حامد', 'Hamed', 'Hamid'),
];

export const FEMALE_FIRST_NAMES: readonly NameForms[] = [
  n('فاطمة الزهراء', 'Fatima Zahra', 'Fatima-Zohra', 'Fatimazahra', 'Fatima Ezzahra', 'Fatim Zahra'),
  n('فاطمة', 'Fatima', 'Fatema'),
  n('خديجة', 'Khadija', 'Khadidja', 'Khadijah'),
  n('مريم', 'Meryem', 'Maryam', 'Mariam'),
  n('عائشة', 'Aicha', 'Aïcha', 'Aisha'),
  n('زينب', 'Zineb', 'Zaynab', 'Zeinab'),
  n('سعاد', 'Souad', 'Suad'),
  n('نادية', 'Nadia', 'Nadya'),
  n('حنان', 'Hanane', 'Hanan'),
  n('سناء', 'Sanaa', 'Sana'),
  n('أسماء', 'Asmae', 'Asmaa', 'Asma'),
  n('ليلى', 'Leila', 'Layla', 'Laila'),
  n('نعيمة', 'Naima', 'Naïma'),
  n('رشيدة', 'Rachida', 'Rashida'),
  n('لطيفة', 'Latifa'),
  n('إيمان', 'Imane', 'Iman'),
  n('سلمى', 'Salma'),
  n('هند', 'Hind'),
  n('كوثر', 'Kaoutar', 'Kawtar'),
  n('وفاء', 'Wafae', 'Wafaa', 'Wafa'),
  n('سكينة', 'Soukaina', 'Sukaina', 'Soukayna'),
  n('غزلان', 'Ghizlane', 'Ghizlan'),
  n('بشرى', 'Bouchra', 'Bushra'),
  n('مليكة', 'Malika'),
  n('حياة', 'Hayat'),
  n('سميرة', 'Samira'),
  n('نجاة', 'Najat'),
  n('هاجر', 'Hajar', 'Hajer'),
  n('أمينة', 'Amina'),
  n('يسرى', 'Yousra', 'Yusra', 'Yosra'),
  n('كريمة', 'Karima', 'Carima'),
];

export const LAST_NAMES: readonly NameForms[] = [
  n('العلوي', 'Alaoui', 'El Alaoui', 'Lalaoui'),
  n('الإدريسي', 'El Idrissi', 'Idrissi', 'Drissi', 'Elidrissi'),
  n('بنعلي', 'Benali', 'Ben Ali'),
  n('الوزاني', 'Ouazzani', 'Wazzani', 'El Ouazzani'),
  n('التازي', 'Tazi', 'Ettazi'),
  n('الفاسي', 'El Fassi', 'Fassi', 'Elfassi'),
  n('بناني', 'Bennani', 'Benani'),
  n('برادة', 'Berrada', 'Berada'),
  n('الشرايبي', 'Chraibi', 'Chraïbi'),
  n('العمراني', 'El Amrani', 'Amrani', 'Lamrani'),
  n('الكتاني', 'Kettani', 'El Kettani', 'Kattani'),
  n('السقاط', 'Sekkat', 'Seqqat'),
  n('بنجلون', 'Benjelloun', 'Ben Jelloun', 'Benjeloun'),
  n('التويمي', 'Touimi', 'Ettouimi'),
  n('الصقلي', 'Sqalli', 'Skalli', 'Squalli'),
  n('الحسني', 'El Hassani', 'Hassani'),
  n('بوزيان', 'Bouziane', 'Bouzian'),
  n('الزموري', 'Zemmouri', 'Zemouri'),
  n('أمزيان', 'Amziane', 'Amzian'),
  n('أوحمو', 'Ouhammou', 'Ouhamou'),
  n('آيت علي', 'Ait Ali', 'Aït Ali', 'Ayt Ali'),
  n('بلحاج', 'Belhaj', 'Belhadj'),
  n('الرحماني', 'Rahmani', 'Errahmani'),
  n('الغربي', 'Gharbi', 'El Gharbi'),
  n('المنصوري', 'Mansouri', 'El Mansouri'),
  n('الخياطي', 'Khayati', 'El Khayati'),
  n('الجزولي', 'Jazouli', 'Jazuli', 'El Jazouli'),
  n('الطاهري', 'Tahiri', 'Ettahiri', 'Taheri'),
  n('البقالي', 'Bekkali', 'Baqqali', 'El Bekkali'),
  n('العثماني', 'El Othmani', 'Othmani', 'Otmani'),
  n('الصديقي', 'Seddiki', 'Sadiki', 'Seddiqi'),
  n('الناصري', 'Naciri', 'Nasiri', 'Ennaciri'),
  n('الأزرق', 'Lazrak', 'El Azrak', 'Azraq'),
  n('الشاوي', 'Chaoui', 'Echaoui'),
  n('بوعزة', 'Bouazza', 'Bouaza'),
  n('الودغيري', 'Oudghiri', 'El Oudghiri'),
  n('بنكيران', 'Benkirane', 'Ben Kirane'),
  n('بنسودة', 'Bensouda', 'Ben Souda'),
  n('الزياني', 'Ziani', 'Zayani'),
  n('لحلو', 'Lahlou'),
  n('القادري', 'Kadiri', 'Qadiri', 'El Kadiri'),
  n('المريني', 'Merini', 'El Merini'),
  n('الحمداوي', 'Hamdaoui', 'El Hamdaoui'),
  n('السباعي', 'Sbai', 'Sebbai', 'Essbai'),
  n('الراضي', 'Radi', 'Erradi'),
  n('بوطالب', 'Boutaleb', 'Bouttaleb'),
  n('الكراوي', 'Guerraoui', 'Karaoui'),
  n('أخنوش', 'Akhannouch', 'Akhanouch'),
  n('الهاشمي', 'Hachimi', 'El Hachimi', 'Hashimi'),
  n('الجراري', 'Jirari', 'Jerrari'),
];

/** Company name parts: a French word and its Arabic counterpart. */
export const COMPANY_ROOTS: readonly (readonly [fr: string, ar: string])[] = [
  ['Atlas', 'الأطلس'], ['Sahara', 'الصحراء'], ['Al Amal', 'الأمل'], ['Anfa', 'أنفا'], ['Rif', 'الريف'], ['Souss', 'سوس'],
  ['Zitoune', 'الزيتون'], ['Nour', 'النور'], ['Al Majd', 'المجد'], ['Baraka', 'البركة'], ['Chamal', 'الشمال'], ['Oasis', 'الواحة'],
  ['Argane', 'أركان'], ['Mogador', 'موكادور'], ['Tafilalet', 'تافيلالت'], ['Oum Rabii', 'أم الربيع'], ['Sebou', 'سبو'], ['Al Fath', 'الفتح'],
  ['Nakhil', 'النخيل'], ['Yasmine', 'الياسمين'], ['Assafa', 'الصفاء'], ['Al Wifaq', 'الوفاق'], ['Moulouya', 'ملوية'], ['Tensift', 'تانسيفت'],
];

export const COMPANY_ACTIVITIES: readonly (readonly [fr: string, ar: string])[] = [
  ['Négoce', 'للتجارة'], ['Transport', 'للنقل'], ['Travaux', 'للأشغال'], ['Immobilier', 'للعقار'], ['Services', 'للخدمات'],
  ['Distribution', 'للتوزيع'], ['Industries', 'للصناعات'], ['Conseil', 'للاستشارة'], ['Informatique', 'للمعلوميات'],
  ['Textile', 'للنسيج'], ['Pêche', 'للصيد البحري'], ['Agro', 'للفلاحة'], ['Import Export', 'للاستيراد والتصدير'], ['Bâtiment', 'للبناء'],
];

/** CIN office letters seen on cards (one or two letters). */
export const CIN_PREFIXES: readonly string[] = [
  'A', 'AA', 'AB', 'AD', 'AE', 'B', 'BB', 'BE', 'BH', 'BJ', 'BK', 'BL', 'C', 'CB', 'CD', 'D', 'DA', 'DJ', 'E', 'EE',
  'F', 'FA', 'FB', 'G', 'GA', 'GM', 'H', 'HA', 'I', 'IA', 'J', 'JA', 'JB', 'JC', 'JE', 'K', 'L', 'LA', 'M', 'MC',
  'N', 'P', 'PA', 'Q', 'R', 'S', 'SH', 'T', 'TA', 'U', 'UA', 'V', 'W', 'WA', 'X', 'Y', 'Z', 'ZG', 'ZT',
];

/** VIN world manufacturer identifiers with makes and a few models, and whether the maker fills the NA check digit. */
export const VEHICLE_MAKERS: readonly { wmi: string; make: string; models: readonly string[]; checkDigit: boolean }[] = [
  { wmi: 'UU1', make: 'DACIA', models: ['LOGAN', 'SANDERO', 'DUSTER', 'DOKKER'], checkDigit: false },
  { wmi: 'VF1', make: 'RENAULT', models: ['CLIO', 'MEGANE', 'KANGOO', 'EXPRESS'], checkDigit: false },
  { wmi: 'VF3', make: 'PEUGEOT', models: ['208', '301', '308', 'PARTNER'], checkDigit: false },
  { wmi: 'VF7', make: 'CITROEN', models: ['C3', 'C4', 'BERLINGO'], checkDigit: false },
  { wmi: 'WVW', make: 'VOLKSWAGEN', models: ['GOLF', 'POLO', 'TOUAREG'], checkDigit: false },
  { wmi: 'KMH', make: 'HYUNDAI', models: ['ACCENT', 'TUCSON', 'I10'], checkDigit: true },
  { wmi: 'JTD', make: 'TOYOTA', models: ['YARIS', 'COROLLA', 'HILUX'], checkDigit: true },
  { wmi: 'ZFA', make: 'FIAT', models: ['PUNTO', 'TIPO', 'DOBLO'], checkDigit: false },
  { wmi: 'WDD', make: 'MERCEDES-BENZ', models: ['C 220', 'E 250', 'SPRINTER'], checkDigit: false },
  { wmi: '1FT', make: 'FORD', models: ['F-150', 'TRANSIT'], checkDigit: true },
];
